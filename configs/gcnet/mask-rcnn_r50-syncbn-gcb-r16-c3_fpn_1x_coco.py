_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 after the last 1x1 conv of every residual block of c3 only
# (Table 2(c) "c3").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, True, False, False),
            position='after_conv3')
    ]))
