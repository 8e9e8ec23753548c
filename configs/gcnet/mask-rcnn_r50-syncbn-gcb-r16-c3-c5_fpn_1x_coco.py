_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# GC block, bottleneck ratio 1/16, after the last 1x1 conv of every residual
# block in c3-c5 (Table 2(e); the default GCNet, Table 2 "+all
# GC"/"after1x1"/"c3+c4+c5"/"r16+LN+ReLU"/"att+add", Table 3 "R50 +GC r16").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
