_base_ = './slowonly_r50-in1k-pre_8xb16-8x8x1-steplr-150e_kinetics400-rgb.py'

# Table 5 "+5 NL": embedded-Gaussian non-local blocks (3-D, keys and values
# max-pooled 1x2x2, BN after W_z) after residual blocks 1 and 3 of res3 and
# 1, 3 and 5 of res4, where and as MMAction2's non-local slow-only places
# them (after the block's final ReLU).
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(
                type='NonLocal',
                dimension=3,
                sub_sample=True,
                use_scale=True,
                norm_cfg=dict(type='BN3d', requires_grad=True),
                mode='embedded_gaussian'),
            stages=(False, True, False, False),
            position='after_block',
            block_indices=(0, 2)),
        dict(
            cfg=dict(
                type='NonLocal',
                dimension=3,
                sub_sample=True,
                use_scale=True,
                norm_cfg=dict(type='BN3d', requires_grad=True),
                mode='embedded_gaussian'),
            stages=(False, False, True, False),
            position='after_block',
            block_indices=(0, 2, 4))
    ]))
