"""attention_stats.py and visualize_attention.py end to end on a tiny
Mask R-CNN (ResNet-50 layout with base_channels=8, one Embedded Gaussian NL
before the last block of c4, GC blocks in c5) with random weights."""
import json
import math
import runpy
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'analysis_tools'
NL_NAME = 'backbone.layer3.4.nonlocal_block'

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


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
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


def _run_tool(script: str, argv, monkeypatch) -> None:
    monkeypatch.setattr(sys, 'argv', [script, *argv])
    runpy.run_path(str(TOOLS / script), run_name='__main__')


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


def test_attention_stats_end_to_end(tiny, tmp_path, monkeypatch, capsys):
    _run_tool('attention_stats.py', [
        tiny['config'], tiny['checkpoint'], '--out-dir',
        str(tmp_path / 'exact'), '--kinds', 'nonlocal', 'context', '--device',
        'cpu'
    ], monkeypatch)
    printed = capsys.readouterr().out
    assert 'JSD-att' in printed and 'paper (COCO)' in printed
    data = json.loads((tmp_path / 'exact' / 'table1.json').read_text())
    rows = {r['block']: r for r in data['rows']}
    assert data['num_images'] == 2 and not data['jsd_estimate']
    nl = rows[NL_NAME]
    assert nl['kind'] == 'embedded_gaussian' and nl['images'] == 2
    assert nl['positions'] == 70  # 7x10 valid cells of 8x10
    gc = [r for name, r in rows.items() if 'context_block' in name]
    assert len(gc) == 3  # every block of c5
    assert all(r['att'] is None and r['jsd_att'] is None for r in gc)

    # recompute the NL row independently on the same two images
    from mmdet.apis import init_detector
    from mmengine.runner import Runner
    model = init_detector(tiny['config'], tiny['checkpoint'], device='cpu')
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

    # JSD estimated from 5 query rows: flagged, close, not identical
    _run_tool('attention_stats.py', [
        tiny['config'], tiny['checkpoint'], '--out-dir',
        str(tmp_path / 'est'), '--max-queries', '5', '--num-images', '1',
        '--device', 'cpu'
    ], monkeypatch)
    est = json.loads((tmp_path / 'est' / 'table1.json').read_text())
    assert est['jsd_estimate'] and est['num_images'] == 1
    assert [r['block'] for r in est['rows']] == [NL_NAME]
    assert est['rows'][0]['input'] == pytest.approx(
        expected[0]['input'], rel=1e-4)
    assert (tmp_path / 'est' / 'table1.csv').exists()


def test_visualize_attention_end_to_end(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / 'vis'
    _run_tool('visualize_attention.py', [
        tiny['config'], tiny['checkpoint'], *tiny['images'], '--points',
        '10,20', '90,60', '50,35', '--out-dir',
        str(out), '--device', 'cpu'
    ], monkeypatch)
    printed = capsys.readouterr().out
    # x1.5 resize, stride 16: (10, 20) -> centre (15.75, 30.75) -> (1, 0);
    # (90, 60) -> (135.75, 90.75) -> (5, 8); (50, 35) -> (3, 4)
    for cell in ('(row=1, col=0)', '(row=5, col=8)', '(row=3, col=4)'):
        assert printed.count(cell) == 2, cell
    for image in tiny['images']:
        png = out / f'{Path(image).stem}_{NL_NAME}.png'
        assert png.stat().st_size > 5000

    # a GC block's global map, random points ignored
    gc_name = 'backbone.layer4.0.context_block'
    _run_tool('visualize_attention.py', [
        tiny['config'], tiny['checkpoint'], tiny['images'][0], '--block',
        gc_name, '--out-dir',
        str(out), '--device', 'cpu'
    ], monkeypatch)
    assert (out / f'{Path(tiny["images"][0]).stem}_{gc_name}.png').exists()
    with pytest.raises(SystemExit, match='no block named'):
        _run_tool('visualize_attention.py', [
            tiny['config'], tiny['checkpoint'], tiny['images'][0], '--block',
            'backbone.nope', '--device', 'cpu'
        ], monkeypatch)


def test_attention_stats_missing_data(tiny, tmp_path, monkeypatch):
    from gcnet_plugin.data.checks import DataCheckError
    bad = tmp_path / 'bad.py'
    bad.write_text(f"_base_ = '{tiny['config']}'\n"
                   "test_dataloader = dict(dataset=dict("
                   "data_root='/nonexistent/coco/'))\n")
    with pytest.raises(DataCheckError, match='data root not found'):
        _run_tool('attention_stats.py',
                  [str(bad), tiny['checkpoint'], '--device', 'cpu'],
                  monkeypatch)
