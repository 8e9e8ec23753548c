_base_ = './resnet50_8xb64-ft40e_in1k.py'

# GC block, bottleneck ratio 1/16, after the last 1x1 conv of every residual
# block in c3-c5: Table 4(a) "+all GC", Table 4(b) "att+add" (GC-ResNet-50).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
