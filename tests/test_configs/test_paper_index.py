"""configs/paper_index.yml: one entry per paper row; params match."""
import collections
from typing import Callable

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import gcnet_plugin  # noqa: F401

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


def _coco(paper_index):
    """The entries of the COCO tables (1-3); other tables have their own
    tests (tests/test_configs/test_imagenet_paper_index.py, ...)."""
    return [e for e in paper_index if str(e['table'])[0] in '123']


def test_index_is_well_formed_and_complete(paper_index, repo_root):
    paper_index = _coco(paper_index)
    counts = collections.Counter(str(e['table']) for e in paper_index)
    assert counts == ROWS
    keys = [(str(e['table']), e['row']) for e in paper_index]
    assert len(set(keys)) == len(keys)
    for e in paper_index:
        assert set(e) == {'table', 'row', 'config', 'paper'}, e
        assert (repo_root / e['config']).is_file(), e['config']
        assert set(
            e['paper']) <= {'bbox_mAP', 'segm_mAP', 'params_M', 'flops_G'}
        assert 30 < e['paper']['bbox_mAP'] < 50, e
        assert 30 < e['paper']['segm_mAP'] < 45, e
        assert e['paper'].get('flops_G', 300) > 270, e
    # every paper config serves at least one row
    used = {e['config'] for e in paper_index}
    configs = {
        str(p.relative_to(repo_root))
        for p in (repo_root / 'configs/gcnet').glob('*.py')
    }
    assert configs == used


def test_shared_configs_share_the_paper_numbers(paper_index):
    """Rows that point at one config print the same AP in the paper (a
    transcription check, e.g. "+all GC" = "ratio 16" = "R50 +GC r16")."""
    paper_index = _coco(paper_index)
    seen = {}
    for e in paper_index:
        ap = (e['paper']['bbox_mAP'], e['paper']['segm_mAP'])
        assert seen.setdefault(e['config'], ap) == ap, e
    assert len(seen) < len(paper_index)


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope='module')
def non_backbone_params(load_config: Callable[[str], Config]) -> int:
    """#params of the baseline detector outside its backbone."""
    init_default_scope('mmdet')
    model = MODELS.build(load_config(BASELINE).model)
    return _params(model) - _params(model.backbone)


def test_params_match_paper(params_config_path, load_config, paper_index,
                            non_backbone_params):
    """#param within 0.1 M of the paper. The whole detector is the
    baseline's neck and heads (checked identical) plus this backbone."""
    path = params_config_path
    cfg, base = load_config(path), load_config(BASELINE)
    assert {
        k: v
        for k, v in cfg.model.items() if k != 'backbone'
    } == {
        k: v
        for k, v in base.model.items() if k != 'backbone'
    }
    init_default_scope('mmdet')
    backbone = MODELS.build(cfg.model.backbone)
    measured = (non_backbone_params + _params(backbone)) / 1e6
    for e in paper_index:
        if e['config'] == path and 'params_M' in e['paper']:
            assert abs(measured -
                       e['paper']['params_M']) <= 0.1, (e['row'], measured,
                                                        e['paper']['params_M'])
