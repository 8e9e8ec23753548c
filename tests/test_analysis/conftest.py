"""``tiny_nl``: a tiny Mask R-CNN with a non-local and GC blocks, its
random-weight checkpoint and two generated images (built once)."""
import pytest
import torch

CONFIG = """\
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['gcnet_plugin'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='PluginResNet', base_channels=8, init_cfg=None,
        norm_cfg=dict(type='BN', requires_grad=True),
        plugins=[
            dict(cfg=dict(type='NonLocal', mode='embedded_gaussian'),
                 stages=(False, False, True, False), position='after_add',
                 block_indices=(-2, )),
            dict(cfg=dict(type='ContextBlock', ratio=1 / 4),
                 stages=(False, False, False, True),
                 position='after_conv3'),
        ]),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=16),
        bbox_head=dict(in_channels=16, fc_out_channels=32),
        mask_roi_extractor=dict(out_channels=16),
        mask_head=dict(in_channels=16, conv_out_channels=16)))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(
        data_root='{root}/', ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            # 72x100 images -> x1.5 = 108x150, padded to 128x160: c4 is
            # 8x10 cells of which 7x10 see the image
            dict(type='Resize', scale=(150, 108), keep_ratio=True),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                            'scale_factor')),
        ]))
"""


@pytest.fixture(scope='session')
def tiny_nl(tmp_path_factory):
    """Config, checkpoint and images of the tiny model."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from gcnet_plugin.data.synthetic_coco import make_synthetic_coco
    root = tmp_path_factory.mktemp('tiny')
    make_synthetic_coco(str(root / 'data'), 0, 2, image_size=(72, 100))
    config = root / 'tiny_nl.py'
    config.write_text(CONFIG.replace('{root}', str(root / 'data')))
    cfg = Config.fromfile(str(config))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    # random weights, W_z of the NL included (zero at init); large theta
    # and phi make the attention far from uniform (features are ~0.02)
    for name, param in model.named_parameters():
        if 'nonlocal_block' in name or 'context_block' in name:
            sharp = '.theta.' in name or '.phi.' in name
            torch.nn.init.normal_(param, std=3.0 if sharp else 0.2)
    checkpoint = root / 'tiny_nl.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    images = sorted((root / 'data' / 'val2017').glob('*.jpg'))
    return dict(
        root=root,
        config=str(config),
        checkpoint=str(checkpoint),
        images=[str(p) for p in images])


@pytest.fixture(scope='session')
def tiny_detector(tiny_nl):
    """The tiny model with its checkpoint, on the CPU, in eval mode."""
    from mmdet.apis import init_detector
    return init_detector(
        tiny_nl['config'], tiny_nl['checkpoint'], device='cpu')
