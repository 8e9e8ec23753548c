"""configs/kinetics/: MMAction2's slow-only 8x8 settings in every Table 5
config, the placement each name promises, Table 5's #params for every row
(models built on the meta device) and, in a slow test, its FLOPs."""
import json
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

import gcnet_plugin  # noqa: F401
from gcnet_plugin.analysis.complexity import get_flops

MMACTION = 'mmaction::recognition/slowonly/'
STOCK = (
    MMACTION + 'slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-'
    '150e_kinetics400-rgb.py')
STOCK_NL = (
    MMACTION + 'slowonly_r50-in1k-pre-nl-embedded-gaussian_8xb16-'
    '8x8x1-steplr-150e_kinetics400-rgb.py')
BASELINE = ('configs/kinetics/slowonly_r50-in1k-pre_8xb16-8x8x1-steplr-150e_'
            'kinetics400-rgb.py')
COMPLEXITY = 'docs/complexity_8x224x224.json'
BLOCKS = dict(gcb='ContextBlock', snl='SimplifiedNonLocal', nl='NonLocal')
STAGES = {
    'c3-c4': (False, True, True, False),
    'c3-c5': (False, True, True, True)
}


def _table_5(paper_index) -> Dict[str, dict]:
    return {
        e['config']: e['paper']
        for e in paper_index if str(e['table']) == '5'
    }


def _mmaction_non_local() -> List[dict]:
    """MMAction2's "+5 NL" as our plugins: its ``non_local`` positions
    (one plugin per stage) and its ``non_local_cfg``."""
    backbone = get_config(STOCK_NL).model.backbone
    cfg = dict(type='NonLocal', dimension=3, **backbone.non_local_cfg)
    stages = backbone.non_local
    return [
        dict(
            cfg=cfg,
            stages=tuple(j == i for j in range(len(stages))),
            position='after_block',
            block_indices=tuple(b for b, on in enumerate(flags) if on))
        for i, flags in enumerate(stages) if any(flags)
    ]


def _expected_plugins(path: str) -> Optional[List[dict]]:
    """The plugins a config name promises: ``<block>[5]-[r<ratio>-]<stages>``
    ("5": MMAction2's five non-local positions, after the block)."""
    part = re.fullmatch(
        r'slowonly_r50-in1k-pre-?(.*?)_8xb16-8x8x1-steplr-'
        r'150e_kinetics400-rgb\.py',
        Path(path).name).group(1)
    if not part:
        return None
    m = re.fullmatch(r'(gcb|snl|nl)(5?)(?:-r(\d+))?-(c3-c[45])', part)
    block, five, ratio, stages = m.groups()
    cfg = dict(type=BLOCKS[block])
    if ratio:
        cfg['ratio'] = 1. / int(ratio)
    if five:
        plugins = _mmaction_non_local()
        assert STAGES[stages] == tuple(
            any(p['stages'][i] for p in plugins) for i in range(4))
        return [
            dict(p, cfg=p['cfg'] if block == 'nl' else cfg) for p in plugins
        ]
    return [dict(cfg=cfg, stages=STAGES[stages], position='after_conv3')]


def _without_plugins(cfg) -> dict:
    cfg = cfg.to_dict()
    cfg['model']['backbone'].pop('plugins', None)
    return cfg


def _unscoped(value):
    """``value`` without the ``_scope_`` keys a scoped ``_base_`` adds."""
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_unscoped(v) for v in value)
    return value


def test_baseline_is_mmaction2s_with_raw_frames(load_config):
    """MMAction2's ImageNet-inflated slow-only 8x8: its model (our backbone
    class), schedule and 30-view test; frames read by RawFrameDecode."""
    cfg, stock = load_config(BASELINE), get_config(STOCK)
    assert cfg.default_scope == 'mmaction'
    assert cfg.custom_imports == dict(
        imports=['gcnet_plugin'], allow_failed_imports=False)
    ours = _unscoped(cfg.model.to_dict())
    assert ours['backbone'].pop('type') == 'PluginResNet3dSlowOnly'
    ref = _unscoped(stock.model.to_dict())
    assert ref['backbone'].pop('type') == 'ResNet3dSlowOnly'
    assert ours == ref
    bb = cfg.model.backbone
    assert bb.pretrained.startswith('https://download.pytorch.org/models/'
                                    'resnet50')  # ImageNet, inflated
    assert (bb.conv1_kernel, bb.inflate) == ((1, 7, 7), (0, 0, 1, 1))
    assert cfg.model.cls_head.num_classes == 400
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'auto_scale_lr', 'val_evaluator', 'test_evaluator'):
        assert _unscoped(cfg[key]) == _unscoped(stock[key]), key
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_cfg.max_epochs == 150
    for split in ('train', 'val', 'test'):
        loader, ref = cfg[f'{split}_dataloader'], stock[f'{split}_dataloader']
        assert loader.batch_size == ref.batch_size
        assert loader.dataset.type == 'RawframeDataset'
        assert loader.dataset.data_root == 'data/kinetics400/'
        pipeline = [t for t in loader.dataset.pipeline]
        ref_pipeline = [
            t for t in ref.dataset.pipeline if t.type != 'DecordInit'
        ]
        assert [t.type for t in pipeline] == [
            'RawFrameDecode' if t.type == 'DecordDecode' else t.type
            for t in ref_pipeline
        ]
        assert _unscoped([
            t for t in pipeline if t.type != 'RawFrameDecode'
        ]) == _unscoped([t for t in ref_pipeline if t.type != 'DecordDecode'])
    sample, crop = (cfg.test_pipeline[0], cfg.test_pipeline[3])
    assert (sample.clip_len, sample.frame_interval) == (8, 8)
    assert (sample.num_clips, crop.type) == (10, 'ThreeCrop')  # 30 views


def test_rows_differ_from_the_baseline_in_the_blocks_only(
        paper_index, load_config):
    base = _without_plugins(load_config(BASELINE))
    for path in _table_5(paper_index):
        cfg = load_config(path)
        assert _without_plugins(cfg) == base, path
        assert cfg.model.backbone.get('plugins') == _expected_plugins(path)


def _params(path: str, load_config) -> float:
    init_default_scope('mmaction')
    with torch.device('meta'):
        model = MODELS.build(load_config(path).model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def test_stock_mmaction2_models_are_table_5s_first_rows(paper_index):
    """MMAction2's slow-only R50 and its five-NonLocal3d variant (mmcv's
    block) have Table 5's baseline and "+5 NL" #params to the digit."""
    paper = list(_table_5(paper_index).values())
    init_default_scope('mmaction')
    for path, row in ((STOCK, paper[0]), (STOCK_NL, paper[1])):
        with torch.device('meta'):
            model = MODELS.build(get_config(path).model)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        assert round(params, 2) == row['params_M'], path


def test_params_match_paper(paper_index, load_config, repo_root):
    """Within 0.05 M of Table 5, and as docs/complexity_8x224x224.json
    states."""
    shipped = json.loads((repo_root / COMPLEXITY).read_text())
    for path, paper in _table_5(paper_index).items():
        params = _params(path, load_config)
        assert abs(params - paper['params_M']) <= 0.05, (path, params)
        assert shipped[path]['params_M'] == round(params, 3), path


@pytest.mark.slow
def test_flops_match_paper_increases(paper_index, repo_root):
    """One 8x224x224 clip (docs/kinetics.md): GC and SNL rows add what the
    paper's do, within 0.05 G; every row as the shipped json says."""
    shipped = json.loads((repo_root / COMPLEXITY).read_text())
    rows = _table_5(paper_index)
    flops = {path: get_flops(path)['flops_G'] for path in rows}
    base, paper_base = flops[BASELINE], rows[BASELINE]['flops_G']
    for path, paper in rows.items():
        assert shipped[path]['flops_G'] == pytest.approx(flops[path], abs=1e-3)
        if '-nl5-' in path:
            continue  # docs/kinetics.md: the paper's NL count differs
        increase = flops[path] - base
        assert abs(increase - (paper['flops_G'] - paper_base)) <= 0.05, path
