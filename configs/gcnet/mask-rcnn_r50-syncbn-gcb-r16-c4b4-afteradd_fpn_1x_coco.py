_base_ = './mask-rcnn_r50-syncbn_fpn_1x_coco.py'

# One GC block (r16) right before the last residual block of c4: on the output
# of the second-to-last block (after the addition, before its ReLU) (Table 2(a)
# "+1 GC").
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, False, True, False),
            position='after_add',
            block_indices=(-2, ))
    ]))
