_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# Simplified non-local block (eq. 3: one C->C 1x1 conv, no bottleneck) after
# the last 1x1 conv of every residual block in c3-c5 (Table 2(d) "w/o ratio").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SimplifiedNonLocal'),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
