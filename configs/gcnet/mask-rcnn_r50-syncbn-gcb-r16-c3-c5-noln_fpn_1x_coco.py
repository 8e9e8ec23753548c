_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block r16 without the LayerNorm in the bottleneck transform (Table 2(d)
# "r16+ReLU").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16, norm_cfg=None),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
