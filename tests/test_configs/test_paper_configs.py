"""Every config loads; paper configs say what their names say; they build,
run, and match MMDetection's GCNet models key for key."""
import ast
import re
from pathlib import Path

import mmcv.cnn
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import gcnet_plugin  # noqa: F401

HEADLINE = 'configs/gc_r50_r16.py'
_NL_NAME = 'mask-rcnn_r50-syncbn-nl-c4b4-afteradd_fpn_1x_coco.py'
BLOCKS = dict(
    gcb='ContextBlock', snl='SimplifiedNonLocal', se='SE', nl='NonLocal')
STAGES = {
    'c3-c5': (False, True, True, True),
    'c3': (False, True, False, False),
    'c4': (False, False, True, False),
    'c5': (False, False, False, True),
    'c4b4': (False, False, True, False),
}
NL_MODES = dict(gaussian='gaussian', dot='dot_product', concat='concat')
PRETRAINED = {
    ('PluginResNet', 50): 'torchvision://resnet50',
    ('PluginResNet', 101): 'torchvision://resnet101',
    ('PluginResNeXt', 101): 'open-mmlab://resnext101_32x4d',
}
# Our config -> MMDetection's config of the same model (configs/gcnet/).
MMDET_TWINS = {
    HEADLINE:
    'mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py',
    'mask-rcnn_r50-syncbn_fpn_1x_coco.py':
    'mask-rcnn_r50-syncbn_fpn_1x_coco.py',
    'mask-rcnn_r50-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py':
    'mask-rcnn_r50-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py',
    'mask-rcnn_r101-syncbn_fpn_1x_coco.py':
    'mask-rcnn_r101-syncbn_fpn_1x_coco.py',
    'mask-rcnn_r101-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py':
    'mask-rcnn_r101-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py',
    'mask-rcnn_r101-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py':
    'mask-rcnn_r101-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py',
    'mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco.py':
    'mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco.py',
    'mask-rcnn_x101-32x4d-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py':
    'mask-rcnn_x101-32x4d-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py',
    'mask-rcnn_x101-32x4d-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py':
    'mask-rcnn_x101-32x4d-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn-r16-gcb-c3-c5_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn-r4-gcb-c3-c5_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5-gcb-r16-c3-c5'
    '_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5-r16-gcb-c3-c5'
    '_fpn_1x_coco.py',
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5-gcb-r4-c3-c5'
    '_fpn_1x_coco.py':
    'cascade-mask-rcnn_x101-32x4d-syncbn-dconv-c3-c5-r4-gcb-c3-c5'
    '_fpn_1x_coco.py',
}


def _ours(name: str) -> str:
    return name if name.startswith('configs/') else f'configs/gcnet/{name}'


def _depth(path: Path) -> int:
    """Levels of local inheritance (scoped ``mmdet::`` bases count 0)."""
    tree = ast.parse(path.read_text())
    bases = [
        node.value for node in tree.body if isinstance(node, ast.Assign)
        and getattr(node.targets[0], 'id', '') == '_base_'
    ]
    if not bases:
        return 1
    names = ast.literal_eval(bases[0])
    names = [names] if isinstance(names, str) else names
    local = [n for n in names if '::' not in n]
    return 1 + max([_depth((path.parent / n).resolve()) for n in local],
                   default=0)


def _expected_plugin(name: str):
    """What the block part of a config name promises, or None."""
    part = re.search(r'-syncbn(?:-dconv-c3-c5)?-?(.*?)_fpn', name).group(1)
    if not part:
        return None
    tok = part.split('-')
    cfg = dict(type=BLOCKS[tok.pop(0)])
    if tok[0].startswith('r') and tok[0][1:].isdigit():
        cfg['ratio'] = 1. / int(tok.pop(0)[1:])
    stages = tok.pop(0)
    if tok and tok[0] in ('c4', 'c5'):  # c3-c5
        stages += '-' + tok.pop(0)
    plugin = dict(stages=STAGES[stages], position='after_conv3')
    if stages == 'c4b4':
        plugin['block_indices'] = (-2, )
    if tok and tok[0] == 'afteradd':
        plugin['position'] = 'after_add'
        tok.pop(0)
    for variant in tok:
        if variant == 'noln':
            cfg['norm_cfg'] = None
        elif variant == 'norelu':
            cfg['act_cfg'] = None
        elif variant == 'avg':
            cfg['pooling_type'] = 'avg'
        elif variant == 'mul':
            cfg['fusion_types'] = ('channel_mul', )
        elif variant in NL_MODES:
            cfg['mode'] = NL_MODES[variant]
        elif variant not in ('add', 'att'):
            raise AssertionError(f'unknown name token {variant!r} in {name}')
    if cfg['type'] == 'NonLocal':
        cfg.setdefault('mode', 'embedded_gaussian')
    plugin['cfg'] = cfg
    return plugin


def _tiny_batch(model, with_gt: bool = False, size: int = 64):
    img = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            scale_factor=(1., 1.)))
    if with_gt:
        from mmdet.structures.mask import BitmapMasks
        masks = torch.zeros(1, 64, 64, dtype=torch.uint8)
        masks[0, 8:40, 10:50] = 1
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 8., 50., 40.]]),
            labels=torch.tensor([3]),
            masks=BitmapMasks(masks.numpy(), 64, 64))
    return model.data_preprocessor(
        dict(inputs=[img], data_samples=[sample]), with_gt)


def _build(cfg: Config):
    init_default_scope('mmdet')
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.eval()
    return model


def _run_predict(cfg: Config):
    # mmcv's deformable conv needs maps >= 3x3: c5 of a 128x128 image is 4x4
    size = 64 if cfg.model.backbone.get('dcn') is None else 128
    model = _build(cfg)
    with torch.no_grad():
        res = model(**_tiny_batch(model, size=size), mode='predict')
    pred = res[0].pred_instances
    assert pred.bboxes.shape[1] == 4
    assert pred.masks.shape[1:] == (size, size)
    return model


def test_every_config_loads(config_path, load_config, repo_root):
    cfg = load_config(config_path)
    assert cfg.model.type
    assert 'gcnet_plugin' in cfg.custom_imports.imports
    assert cfg.custom_imports.allow_failed_imports is False
    assert _depth(repo_root / config_path) <= 3


def test_paper_settings(paper_config_path, load_config):
    """Section 5.1, and the name's promise, in every paper config."""
    path = paper_config_path
    cfg = load_config(path)
    bb = cfg.model.backbone
    assert bb.type in ('PluginResNet', 'PluginResNeXt')
    assert bb.norm_cfg.type == 'SyncBN' and bb.norm_eval is False
    assert bb.frozen_stages == 1
    assert bb.init_cfg.checkpoint == PRETRAINED[(bb.type, bb.depth)]
    assert (cfg.optim_wrapper.optimizer.lr, cfg.auto_scale_lr.base_batch_size,
            cfg.train_dataloader.batch_size) == (0.02, 16, 2)
    assert cfg.optim_wrapper.optimizer.momentum == 0.9
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.end, warmup.by_epoch) == ('LinearLR', 500,
                                                          False)
    assert steps.milestones == [8, 11] and cfg.train_cfg.max_epochs == 12
    resize = [t for t in cfg.train_pipeline if t.type == 'Resize'][0]
    assert resize.scale == (1333, 800)
    name = Path(path).name if path != HEADLINE else MMDET_TWINS[HEADLINE]
    assert ('dconv' in name) == (bb.get('dcn') is not None)
    assert name.startswith('cascade') == (cfg.model.type == 'CascadeRCNN')
    expected = _expected_plugin(name)
    assert bb.get('plugins') == (None if expected is None else [expected])
    if 'test-dev' in name:
        assert cfg.test_evaluator.format_only is True
        assert cfg.test_evaluator.outfile_prefix.endswith(
            Path(path).stem + '/results')
        assert cfg.test_dataloader.dataset.ann_file.endswith(
            'image_info_test-dev2017.json')
        assert cfg.val_dataloader.dataset.ann_file.endswith(
            'instances_val2017.json')
    else:
        assert cfg.test_evaluator.format_only is False


def _twin_pairs(full: bool):
    fast = {HEADLINE}
    return [
        pytest.param(ours, ref, id=Path(ours).stem)
        if full or ours in fast else pytest.param(
            ours, ref, id=Path(ours).stem, marks=pytest.mark.slow)
        for ours, ref in MMDET_TWINS.items()
    ]


@pytest.mark.parametrize('ours,ref', _twin_pairs(full=False))
def test_state_dict_equals_mmdet_gcnet_model(ours, ref, load_config):
    """Same keys and shapes as MMDetection's model built with mmcv's own
    ContextBlock, so the published checkpoints load with strict=True."""
    cfg = load_config(_ours(ours))
    ref_cfg = get_config(f'mmdet::gcnet/{ref}')
    for p in ref_cfg.model.backbone.get('plugins') or []:
        assert p.cfg.type == 'ContextBlock'
        p.cfg.type = mmcv.cnn.ContextBlock
    model, ref_model = _build(cfg), _build(ref_cfg)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    ref_shapes = {k: v.shape for k, v in ref_model.state_dict().items()}
    assert set(shapes) == set(ref_shapes)
    assert shapes == ref_shapes
    ref_model.load_state_dict(model.state_dict(), strict=True)


@pytest.mark.slow_except(HEADLINE, _ours(_NL_NAME))
def test_forward_tiny_image(detection_config_path, load_config):
    _run_predict(load_config(detection_config_path))


def test_headline_trains_one_step(load_config):
    """Loss forward and backward on a 64x64 image; GC blocks get grads."""
    model = _build(load_config(HEADLINE))
    model.train()
    losses = model(**_tiny_batch(model, with_gt=True), mode='loss')
    total = sum(v for k, v in losses.items()
                if 'loss' in k and isinstance(v, torch.Tensor)) + sum(
                    sum(v) for k, v in losses.items()
                    if 'loss' in k and isinstance(v, list))
    assert torch.isfinite(total)
    total.backward()
    grad = model.backbone.layer3[0].context_block.channel_add_conv[3]
    assert grad.weight.grad is not None and grad.weight.grad.abs().sum() > 0
    assert model.backbone.layer1[0].conv1.weight.grad is None  # frozen c2
