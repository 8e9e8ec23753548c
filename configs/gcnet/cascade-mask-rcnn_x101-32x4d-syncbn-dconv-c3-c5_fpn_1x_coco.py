_base_ = 'mmdet::dcn/cascade-mask-rcnn_x101-32x4d-dconv-c3-c5_fpn_1x_coco.py'
custom_imports = dict(imports=['gcnet_plugin'], allow_failed_imports=False)

# Cascade Mask R-CNN, ResNeXt-101 32x4d-FPN, DCN in c3-c5: the paper's baseline
# (section 5.1). From MMDetection's 1x config it keeps 1333x800 inputs, c1 and
# c2 frozen (frozen_stages=1), SGD lr 0.02 for 16 images (auto_scale_lr
# base_batch_size=16), momentum 0.9, weight decay 1e-4, 500-iteration linear
# warmup, 12 epochs with the lr divided by 10 after epochs 8 and 11, and its
# ImageNet-pretrained open-mmlab://resnext101_32x4d (downloaded on first use).
# Changed here: SyncBN in the backbone, trained (norm_eval=False).
model = dict(
    backbone=dict(
        type='PluginResNeXt',
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False))
