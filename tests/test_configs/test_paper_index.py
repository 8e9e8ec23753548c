"""configs/paper_index.yml: one entry per paper row; params match."""
import collections
import copy
import functools
from pathlib import Path

import pytest
import yaml
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import gcnet_plugin  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
INDEX = yaml.safe_load((ROOT / 'configs/paper_index.yml').read_text())
BASELINE = 'configs/gcnet/mask-rcnn_r50-syncbn_fpn_1x_coco.py'
# Rows per table in the paper (Table 1: its COCO half).
ROWS = {
    '1': 4,
    '2a': 5,
    '2b': 3,
    '2c': 5,
    '2d': 5,
    '2e': 5,
    '2f': 5,
    '3a': 15,
    '3b': 6
}
WITH_PARAMS = sorted({e['config'] for e in INDEX if 'params_M' in e['paper']})


def test_index_is_well_formed_and_complete():
    counts = collections.Counter(str(e['table']) for e in INDEX)
    assert counts == ROWS
    keys = [(str(e['table']), e['row']) for e in INDEX]
    assert len(set(keys)) == len(keys)
    for e in INDEX:
        assert set(e) == {'table', 'row', 'config', 'paper'}, e
        assert (ROOT / e['config']).is_file(), e['config']
        assert set(
            e['paper']) <= {'bbox_mAP', 'segm_mAP', 'params_M', 'flops_G'}
        assert 30 < e['paper']['bbox_mAP'] < 50, e
        assert 30 < e['paper']['segm_mAP'] < 45, e
        assert e['paper'].get('flops_G', 300) > 270, e
    # every paper config serves at least one row
    used = {e['config'] for e in INDEX}
    configs = {
        str(p.relative_to(ROOT))
        for p in (ROOT / 'configs/gcnet').glob('*.py')
    }
    assert configs == used


def test_shared_configs_share_the_paper_numbers():
    """Rows that point at one config print the same AP in the paper (a
    transcription check, e.g. "+all GC" = "ratio 16" = "R50 +GC r16")."""
    seen = {}
    for e in INDEX:
        ap = (e['paper']['bbox_mAP'], e['paper']['segm_mAP'])
        assert seen.setdefault(e['config'], ap) == ap, e
    assert len(seen) < len(INDEX)


@functools.lru_cache(maxsize=None)
def _parse(path: str) -> Config:
    return Config.fromfile(str(ROOT / path))


def _cfg(path: str) -> Config:
    return copy.deepcopy(_parse(path))  # building mutates nested dicts


def _backbone_params(path: str) -> int:
    init_default_scope('mmdet')
    backbone = MODELS.build(_cfg(path).model.backbone)
    return sum(p.numel() for p in backbone.parameters())


@functools.lru_cache(maxsize=None)
def _non_backbone_params() -> int:
    init_default_scope('mmdet')
    model = MODELS.build(_cfg(BASELINE).model)
    return sum(p.numel() for p in model.parameters()) - sum(
        p.numel() for p in model.backbone.parameters())


@pytest.mark.parametrize('path', WITH_PARAMS)
def test_params_match_paper(path):
    """#param within 0.1 M of the paper. The whole detector is the
    baseline's neck and heads (checked identical) plus this backbone."""
    cfg, base = _cfg(path), _cfg(BASELINE)
    assert {
        k: v
        for k, v in cfg.model.items() if k != 'backbone'
    } == {
        k: v
        for k, v in base.model.items() if k != 'backbone'
    }
    measured = (_non_backbone_params() + _backbone_params(path)) / 1e6
    for e in INDEX:
        if e['config'] == path and 'params_M' in e['paper']:
            assert abs(measured -
                       e['paper']['params_M']) <= 0.1, (e['row'], measured,
                                                        e['paper']['params_M'])
