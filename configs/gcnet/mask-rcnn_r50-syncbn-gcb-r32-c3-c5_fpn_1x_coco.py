_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block, bottleneck ratio 1/32, after the last 1x1 conv of every residual
# block in c3-c5 (Table 2(e)).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 32),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
