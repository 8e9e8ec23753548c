_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# One simplified non-local block right before the last residual block of c4: on
# the output of the second-to-last block (after the addition, before its ReLU)
# (Table 2(a) "+1 SNL").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SimplifiedNonLocal'),
            stages=(False, False, True, False),
            position='after_add',
            block_indices=(-2, ))
    ]))
