_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 with average pooling instead of attention pooling (Table 2(f)
# "avg+add").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16, pooling_type='avg'),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
