_base_ = './slowonly_r50-in1k-pre_8xb16-8x8x1-steplr-150e_kinetics400-rgb.py'

# Table 5 "+all GC": GC blocks, bottleneck ratio 1/4 (section 5.3), after
# the last 1x1 conv of every residual block in res3-res5 (c3-c5), the
# paper's default placement ("after1x1", Table 2(b)).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 4),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
