_base_ = '../gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py'

# The paper's GC R50 Mask R-CNN (GC r16 after conv3 in every block of
# c3-c5) scaled to learn from scratch on a CPU, on the synthetic shapes of
# `tools/misc/make_quickstart_data.py` (`make demo`).
# Changed: a quarter of the width (base_channels 16), BN instead of SyncBN,
# no pretrained weights, nothing frozen; 48-channel FPN (with BN) and
# heads; the 256 px images resized to 192 px, 4 classes; smaller, square
# anchors (one a position), fewer RPN/RoI samples and RPN proposals;
# class-agnostic box regression and masks; the mask head on the box head's
# 7x7 RoI features (14x14 masks, BN in its convs); NHWC maps; data loaded
# in the training process; fused AdamW with a cosine schedule over 10
# epochs of 400 images (1000 iterations of 4 images). Its training time
# and AP, where the time goes and the trade-offs tried: docs/quickstart.md.
data_root = 'data/quickstart/'
classes = ('circle', 'triangle', 'square', 'star')
metainfo = dict(classes=classes)
image_scale = (192, 192)  # training; tested at the images' own 256 px
test_scale = (256, 256)
max_epochs = 10
neck_channels = 48  # FPN and heads

model = dict(
    backbone=dict(
        base_channels=16,
        norm_cfg=dict(type='BN', requires_grad=True),
        frozen_stages=-1,
        # None: mmdet's own from-scratch init (Kaiming, zero-init residual);
        # ContextBlock.init_weights() zero-inits its last conv after it.
        init_cfg=None),
    # BN in the FPN and the mask head: faster learning from scratch.
    neck=dict(
        in_channels=[64, 128, 256, 512],
        out_channels=neck_channels,
        norm_cfg=dict(type='BN', requires_grad=True)),
    # mmdet's RPNHead fails on a level of one anchor (a 1x1 map)
    rpn_head=dict(
        type='PluginRPNHead',
        in_channels=neck_channels,
        feat_channels=neck_channels,
        # one square anchor a position: the shapes' boxes are near square
        anchor_generator=dict(scales=[4], ratios=[1.0])),
    roi_head=dict(
        # RoIAlign as a sparse matrix product (mmcv's runs on one CPU
        # thread), 2x2 samples a bin.
        # finest_scale 112: every RoI (< 224 px) reads the stride-4 map, at
        # the training and the test scale alike.
        bbox_roi_extractor=dict(
            type='PluginRoIExtractor',
            roi_layer=dict(type='SparseRoIAlign', sampling_ratio=2),
            out_channels=neck_channels,
            finest_scale=112),
        # One box regression and one mask for all classes: each learns
        # from every positive RoI.
        bbox_head=dict(
            in_channels=neck_channels,
            fc_out_channels=256,
            num_classes=len(classes),
            reg_class_agnostic=True),
        # None: the mask head takes the box head's 7x7 RoI features of the
        # positives (no RoIAlign of its own) and predicts 14x14 masks.
        mask_roi_extractor=None,
        # its targets cut from each ground truth mask once (the same ones)
        mask_head=dict(
            type='PluginFCNMaskHead',
            num_convs=2,
            in_channels=neck_channels,
            conv_out_channels=neck_channels,
            num_classes=len(classes),
            class_agnostic=True,
            norm_cfg=dict(type='BN', requires_grad=True),
            # its 1x1 conv_logits as a matrix product
            predictor_cfg=dict(type='PointwiseConv'))),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        # mmcv's NMS runs on one CPU thread: 200 boxes a level, 150 kept.
        rpn_proposal=dict(nms_pre=200, max_per_img=150),
        # Half positives: classifying the shapes is what learns slowest.
        rcnn=dict(mask_size=14, sampler=dict(num=64, pos_fraction=0.5))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300), rcnn=dict(max_per_img=50)))

train_pipeline = [
    # each image decoded and its masks rasterised once, kept in memory
    dict(
        type='LoadOnce',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True)
        ]),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
# Data loaded in the training process (12 ms a batch): with a worker
# process beside the 2 training threads on 2 cores, training took 10%
# longer (the same AP).
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

# No evaluation while training: tools/test.py evaluates the final model.
train_cfg = dict(
    max_epochs=max_epochs, val_interval=1, val_begin=max_epochs + 1)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    # fused: one kernel for all parameters instead of ops per tensor
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05, fused=True),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        eta_min=2e-5,
        convert_to_iter_based=True)
]
# The lr above is for this batch (1 process x 4 images), not the paper's 16.
auto_scale_lr = dict(enable=False, base_batch_size=4)
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_last=True))
log_processor = dict(window_size=10)
# The backbone, the neck and the heads train on NHWC maps (faster oneDNN
# convolutions on a CPU; SparseRoIAlign reads them as they are):
# gcnet_plugin/engine/channels_last.py.
custom_hooks = [dict(type='ChannelsLastBackboneHook', nchw_outputs=False)]
