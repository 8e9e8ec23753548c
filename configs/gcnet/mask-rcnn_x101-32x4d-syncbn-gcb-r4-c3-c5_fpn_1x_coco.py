_base_ = './mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco.py'

# GC block, ratio 1/4, after the last 1x1 conv of every residual block in c3-c5
# (Table 3 "X101 +GC r4").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 4),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
