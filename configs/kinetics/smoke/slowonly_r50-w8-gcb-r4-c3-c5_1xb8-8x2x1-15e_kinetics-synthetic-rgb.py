_base_ = ('../slowonly_r50-in1k-pre-gcb-r4-c3-c5_8xb16-8x8x1-steplr-150e_'
          'kinetics400-rgb.py')

# Table 5's "+all GC" slow-only network (GC r4 after conv3 in every block of
# c3-c5) reduced to train and test in minutes on a CPU, on the synthetic
# videos of `tools/misc/make_kinetics_data.py` (8 classes: the direction a
# shape moves in; 16 frames of 64x64 per video, 800 train and 80 val).
# Changed: an eighth of the width (base_channels 8: 256 channels into the
# head), one block per stage, no ImageNet weights; 8 classes; 8x2 clips
# (8 frames, one every 2) at the frames' size, no flips (a flip turns
# "left" into "right"), 2 clips per video at test time; AdamW with a cosine
# schedule over 15 epochs, batch 8 on one process. Its time and accuracy
# (near chance: a check that everything runs, not a trained model):
# docs/kinetics_data.md.
data_root = 'data/kinetics_synthetic/'
num_classes = 8
max_epochs = 15

model = dict(
    backbone=dict(pretrained=None, base_channels=8, stage_blocks=(1, 1, 1, 1)),
    cls_head=dict(in_channels=256, num_classes=num_classes))

train_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=8,
        frame_interval=2,
        num_clips=1,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=8,
        frame_interval=2,
        num_clips=2,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
_loader = dict(batch_size=8, num_workers=1, persistent_workers=False)
train_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_begin=1, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
# The lr above is for this batch (1 process x 8 clips).
auto_scale_lr = dict(enable=False, base_batch_size=8)
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None))
