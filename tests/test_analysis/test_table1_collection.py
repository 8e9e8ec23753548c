"""Table 1 over a detector's test images (collect_table1), checked
against pairwise matrices computed from the recorded tensors; the tiny
model is described in tests/test_analysis/conftest.py."""
import math

import pytest
import torch
from mmengine.config import Config

from gcnet_plugin.analysis.attention_statistics import Table1
from gcnet_plugin.analysis.table1_collection import (collect_table1,
                                                     table1_loader)
from gcnet_plugin.data.checks import DataCheckError

NL_NAME = 'backbone.layer3.4.nonlocal_block'


def _brute_stats(x, z, att, valid):
    """Pairwise matrices, no closed forms: [C, H, W] maps, [Np, Np]."""
    h, w = valid
    width = x.shape[-1]
    idx = [r * width + c for r in range(h) for c in range(w)]

    def cos_dist(v):  # [M, D]
        u = v.double() / v.double().norm(dim=1, keepdim=True)
        return float(((1 - u @ u.t()) / 2).mean())

    def flat(t):
        return t.reshape(t.shape[0], -1).t()[idx]

    rows = att.double()[idx]  # [M, Np]
    p, q = rows[:, None], rows[None]
    m = (p + q) / 2
    jsd = 0.5 * (torch.xlogy(p, p / m) + torch.xlogy(q, q / m)).sum(-1)
    return dict(
        input=cos_dist(flat(x)),
        output=cos_dist(flat(z - x)),
        att=cos_dist(rows),
        jsd_att=float(jsd.mean()))


def test_table1_matches_pairwise_matrices(tiny_nl, tiny_detector):
    cfg = Config.fromfile(tiny_nl['config'])
    table = Table1('tiny')
    seen = collect_table1(
        tiny_detector,
        table1_loader(cfg),
        table,
        kinds=('nonlocal', 'context'))
    assert seen == 2
    rows = {r['block']: r for r in table.rows()}
    nl = rows[NL_NAME]
    assert nl['kind'] == 'embedded_gaussian' and nl['images'] == 2
    assert nl['positions'] == 70  # 7x10 valid cells of 8x10
    gc = [r for name, r in rows.items() if 'context_block' in name]
    assert len(gc) == 3  # every block of c5
    assert all(r['kind'] == 'context (att)' for r in gc)
    assert all(r['att'] is None and r['jsd_att'] is None for r in gc)

    # recompute the NL row independently on the same two images
    from mmdet.apis import init_detector
    from mmengine.runner import Runner
    model = init_detector(
        tiny_nl['config'], tiny_nl['checkpoint'], device='cpu')
    block = dict(model.named_modules())[NL_NAME]
    block.record_attention = True
    seen = {}
    block.register_forward_hook(
        lambda m, a, o: seen.update(x=a[0], z=o, att=m.last_attention))
    loader = Runner.build_dataloader(model.cfg.test_dataloader)
    expected = []
    with torch.no_grad():
        for batch in loader:
            data_in = model.data_preprocessor(batch, False)
            assert tuple(data_in['inputs'].shape[-2:]) == (128, 160)
            model.backbone(data_in['inputs'])
            assert tuple(seen['x'].shape[-2:]) == (8, 10)
            expected.append(
                _brute_stats(seen['x'][0], seen['z'][0], seen['att'][0],
                             (7, 10)))
    for key in ('input', 'output', 'att', 'jsd_att'):
        mean = sum(e[key] for e in expected) / 2
        assert nl[key] == pytest.approx(mean, rel=1e-4, abs=1e-7), key
    assert 0.01 < nl['jsd_att'] < math.log(2) and nl['att'] > 0.01
    assert all(r['output'] == pytest.approx(0, abs=1e-9) for r in gc)

    # JSD estimated from 5 query rows of one image: close, not identical
    est = Table1('tiny')
    assert collect_table1(
        tiny_detector, table1_loader(cfg), est, num_images=1,
        max_queries=5) == 1
    (row, ) = est.rows()
    assert row['block'] == NL_NAME
    assert row['input'] == pytest.approx(expected[0]['input'], rel=1e-4)
    assert row['jsd_att'] != expected[0]['jsd_att']
    assert 0 < row['jsd_att'] < math.log(2)


def test_named_blocks_and_missing_kinds(tiny_nl, tiny_detector):
    cfg = Config.fromfile(tiny_nl['config'])
    gc_name = 'backbone.layer4.0.context_block'
    table = Table1()
    collect_table1(
        tiny_detector,
        table1_loader(cfg),
        table,
        blocks=[gc_name],
        num_images=1)
    assert [r['block'] for r in table.rows()] == [gc_name]
    with pytest.raises(KeyError, match='no attention block named'):
        collect_table1(
            tiny_detector,
            table1_loader(cfg),
            Table1(),
            blocks=['backbone.nope'])


def test_missing_data_is_named(tiny_nl):
    cfg = Config.fromfile(tiny_nl['config'])
    cfg.test_dataloader.dataset.data_root = '/nonexistent/coco/'
    with pytest.raises(DataCheckError, match='data root not found'):
        table1_loader(cfg)


def test_sub_sampled_non_local_is_refused(tiny_nl, tiny_detector, monkeypatch):
    """Table 1 compares attention maps over one 2-D grid: a block whose
    keys are sub-sampled has none, and is named."""
    cfg = Config.fromfile(tiny_nl['config'])
    block = tiny_detector.get_submodule(NL_NAME)
    monkeypatch.setattr(block, 'sub_sample', True)
    with pytest.raises(ValueError, match=f'{NL_NAME}.*sub_sample=True'):
        collect_table1(
            tiny_detector, table1_loader(cfg), Table1(), num_images=1)
