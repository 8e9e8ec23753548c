_base_ = '../resnet50_8xb64-120e_in1k.py'

# The paper's GC-ResNet-50 (GC r16 after conv3 in every block of c3-c5,
# Table 4 "+all GC") scaled to learn from scratch on a CPU, on the synthetic
# ImageNet-format shapes of `tools/misc/make_imagenet_data.py` (10 classes,
# 64x64, 100 train and 20 val images per class).
# Changed: a quarter of the width (base_channels 16: 512 channels into the
# head), 10 classes, the images at their size (flips only; the shapes are
# the classes, colours are random), batch 32 on one process, 10 epochs with
# one epoch of warmup. Its time and accuracy: docs/imagenet_smoke.md.
data_root = 'data/imagenet-shapes/'
classes = ('circle', 'ring', 'triangle', 'square', 'pentagon', 'star', 'cross',
           'crescent', 'semicircle', 'arrow')
metainfo = dict(classes=classes)
max_epochs = 10

model = dict(
    backbone=dict(
        base_channels=16,
        plugins=[
            dict(
                cfg=dict(type='ContextBlock', ratio=1. / 16),
                stages=(False, True, True, True),
                position='after_conv3')
        ]),
    head=dict(num_classes=len(classes), in_channels=512))
data_preprocessor = dict(num_classes=len(classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.1))
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
        end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# The lr above is for this batch (1 process x 32 images).
auto_scale_lr = dict(base_batch_size=32)
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
