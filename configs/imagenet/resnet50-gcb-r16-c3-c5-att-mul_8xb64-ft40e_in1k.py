_base_ = './resnet50_8xb64-ft40e_in1k.py'

# GC block r16 fused by channel scaling (sigmoid) instead of addition (Table
# 4(b) "att+scale").
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
