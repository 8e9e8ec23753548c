_base_ = './resnet50_8xb64-ft40e_in1k.py'

# GC block r16 with average pooling instead of attention pooling (Table 4(b)
# "avg+add").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16, pooling_type='avg'),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
