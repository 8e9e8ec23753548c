# The headline GCNet: Mask R-CNN, ResNet-50-FPN, SyncBN, a GC block (ratio
# 1/16, LayerNorm + ReLU bottleneck, attention pooling, additive fusion)
# after the last 1x1 conv of every residual block in c3-c5, 1x schedule.
# Same model as MMDetection's
# gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py (its checkpoint
# loads with strict=True).
_base_ = './gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py'
