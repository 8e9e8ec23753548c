_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 with a bare two-conv bottleneck: no LayerNorm, no ReLU (Table
# 2(d) "r16").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(
                type='ContextBlock',
                ratio=1. / 16,
                norm_cfg=None,
                act_cfg=None),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
