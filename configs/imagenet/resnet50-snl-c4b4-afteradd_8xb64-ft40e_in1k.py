_base_ = './resnet50_8xb64-ft40e_in1k.py'

# Table 4(a) "+1 SNL": one simplified non-local block right before the last
# residual block of c4, on the output of the second-to-last block (after the
# addition, before its ReLU).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SimplifiedNonLocal'),
            stages=(False, False, True, False),
            position='after_add',
            block_indices=(-2, ))
    ]))
