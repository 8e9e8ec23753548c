_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs64.py',
    'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['gcnet_plugin'], allow_failed_imports=False)
default_scope = 'mmpretrain'

# Stage 1 of the paper's ImageNet schedule (section 5.2, Table 4): a plain
# ResNet-50 trained 120 epochs on 8 GPUs x 64 images (batch 512), 5 epochs of
# linear warmup, then cosine decay. The stage-2 configs
# (*_8xb64-ft40e_in1k.py) insert the blocks into its last checkpoint. What the
# paper leaves open and what is chosen here: docs/imagenet.md.
#
# From MMPretrain's bases it keeps the classifier (global average pooling, a
# 1000-class linear head, cross-entropy without label smoothing), ImageNet in
# data/imagenet (train/ and val/ folders or meta/ annotation files), 224x224
# random-resized crops and flips for training, resize 256 + center crop 224
# for validation, top-1/top-5 accuracy. Changed here: our backbone (the
# placements of the COCO configs), the original ResNet-50 (stride 2 in the
# first 1x1 conv of a stage, style='caffe': 3.86 GFLOPs as in the paper), the
# color and PCA-lighting augmentation of [33], the schedule. BN is trained
# (norm_eval=False): PluginResNet is MMDetection's ResNet, which keeps BN in
# eval mode by default, as a detector fine-tuning ImageNet weights does.
model = dict(
    backbone=dict(type='PluginResNet', style='caffe', norm_eval=False))

# Lighting (AlexNet-style PCA noise) of pixel values in 0-255, BGR order.
EIGVAL = [55.4625, 4.7940, 1.1475]
EIGVEC = [
    [-0.5836, -0.6948, 0.4203],
    [-0.5808, -0.0045, -0.8140],
    [-0.5675, 0.7192, 0.4009],
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(
        type='Lighting',
        eigval=EIGVAL,
        eigvec=EIGVEC,
        alphastd=0.1,
        to_rgb=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# SGD, Nesterov momentum 0.9, weight decay 1e-4 on all parameters, lr 0.2
# for 512 images (0.1 per 256, linearly scaled by auto_scale_lr for other
# batch sizes).
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=115, by_epoch=True, begin=5, end=120)
]
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
# a checkpoint per epoch, the last 3 kept (stage 2 loads epoch_120.pth)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
