_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 on the output of the residual addition, before the final ReLU,
# in every residual block of c3-c5 (Table 2(b) "afterAdd").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_add')
    ]))
