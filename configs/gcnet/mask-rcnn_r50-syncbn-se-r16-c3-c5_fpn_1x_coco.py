_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# SE block r16 (average pooling, conv-ReLU-conv-sigmoid, channel scaling) after
# the last 1x1 conv of every residual block in c3-c5 (Table 2(f) "avg+scale
# (SE)").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SE', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
