_base_ = './resnet50_8xb64-ft40e_in1k.py'

# SE block r16 (average pooling, conv-ReLU-conv-sigmoid, channel scaling)
# after the last 1x1 conv of every residual block in c3-c5 (Table 4(b)
# "avg+scale (SENet)").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SE', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]))
