_base_ = './resnet50_8xb64-ft40e_in1k.py'

# Table 4(a) "+1 GC": one GC block (r16) right before the last residual block
# of c4, on the output of the second-to-last block (after the addition, before
# its ReLU).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, False, True, False),
            position='after_add',
            block_indices=(-2, ))
    ]))
