_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 fused by channel scaling (sigmoid) instead of addition (Table
# 2(f) "att+scale").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(
                type='ContextBlock',
                ratio=1. / 16,
                fusion_types=('channel_mul', )),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
