_base_ = './slowonly_r50-in1k-pre_8xb16-8x8x1-steplr-150e_kinetics400-rgb.py'

# Table 5 "+5 SNL": simplified non-local blocks (eq. 3, over all T x H x W
# positions) where "+5 NL" has its non-local blocks: after residual blocks
# 1 and 3 of res3 and 1, 3 and 5 of res4, after the block's final ReLU.
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='SimplifiedNonLocal'),
            stages=(False, True, False, False),
            position='after_block',
            block_indices=(0, 2)),
        dict(
            cfg=dict(type='SimplifiedNonLocal'),
            stages=(False, False, True, False),
            position='after_block',
            block_indices=(0, 2, 4))
    ]))
