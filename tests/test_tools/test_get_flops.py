"""tools/analysis_tools/get_flops.py: counts, handles and command line."""
import json
import sys
from pathlib import Path

import pytest
import torch
from mmcv.ops import DeformConv2dPack
from mmengine.analysis import FlopAnalyzer
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools/analysis_tools'))
import get_flops  # noqa: E402

CFG = 'configs/gcnet/mask-rcnn_r50-syncbn{}_fpn_1x_coco.py'
FEW_ROIS = {'model.test_cfg.rpn.max_per_img': 8}  # keeps the heads cheap
SHAPE = (128, 128)  # c3: 16 x 16, c4: 8 x 8, c5: 4 x 4 positions


@pytest.fixture(scope='module')
def baseline_backbone():
    _, analyzer, rois = get_flops.analyze(
        str(ROOT / CFG.format('')), SHAPE, cfg_options=FEW_ROIS)
    assert rois == {'bbox': [8], 'mask': [8]}
    return analyzer.total('backbone')


def test_gc_blocks_cost_what_eq_5_says(baseline_backbone):
    """Per block: W_k (C P) + attention pooling (C P) + two 1x1 convs of
    the bottleneck (2 C C/16), + a few FLOPs of LayerNorm."""
    _, analyzer, _ = get_flops.analyze(
        str(ROOT / CFG.format('-gcb-r16-c3-c5')), SHAPE, cfg_options=FEW_ROIS)
    expected = 0
    ln = 0
    for c, p, blocks in ((512, 16 * 16, 4), (1024, 8 * 8, 6), (2048, 4 * 4,
                                                               3)):
        expected += blocks * (2 * c * p + 2 * c * (c // 16))
        ln += blocks * 10 * (c // 16)
    delta = analyzer.total('backbone') - baseline_backbone
    assert expected <= delta <= expected + ln


def test_nl_block_counts_its_matrix_products(baseline_backbone):
    """E-Gaussian NL at c4 (P = 64, C = 1024, C' = 512): four 1x1 convs
    (4 P C C') and the two P x P products (2 P^2 C'), whichever kernel the
    block uses (matmul or scaled_dot_product_attention)."""
    p, c, e = 64, 1024, 512
    _, analyzer, _ = get_flops.analyze(
        str(ROOT / CFG.format('-nl-c4b4-afteradd')),
        SHAPE,
        cfg_options=FEW_ROIS)
    by_op = analyzer.by_operator('backbone.layer3.4.nonlocal_block')
    assert by_op.pop('conv') == 4 * p * c * e
    assert sum(by_op.values()) == 2 * p * p * e
    delta = analyzer.total('backbone') - baseline_backbone
    assert delta == 4 * p * c * e + 2 * p * p * e


class _Attention(nn.Module):

    def forward(self, q, k):
        # [N, P, E] @ [N, E, P] -> [N, P, P]; then [N, P, P] @ [N, P, E]
        a = torch.matmul(q, k.transpose(1, 2)).softmax(-1)
        return torch.nn.functional.scaled_dot_product_attention(
            q, k, k) + torch.matmul(a, k)


@pytest.mark.parametrize('count_matmul,count_add', [(True, False),
                                                    (False, False),
                                                    (False, True)])
def test_convention_switches(count_matmul, count_add):
    q, k = torch.randn(2, 6, 4), torch.randn(2, 6, 4)
    analyzer = get_flops.configure(
        FlopAnalyzer(_Attention(), (q, k)), count_matmul, count_add)
    matmul = 2 * (2 * 6 * 6 * 4) * 2  # two matmuls + the two SDPA products
    expected = (matmul if count_matmul else 0) + (2 * 6 *
                                                  4 if count_add else 0)
    assert analyzer.total() == expected


def test_deformable_conv_is_counted_like_a_dense_conv():
    model = nn.Sequential(DeformConv2dPack(8, 16, 3, padding=1))
    x = torch.randn(1, 8, 10, 10)
    analyzer = FlopAnalyzer(model, (x, ))
    analyzer.set_op_handle(**{
        'prim::PythonOp.DeformConv2dFunction':
        get_flops.deform_conv_flop_jit
    })
    analyzer.unsupported_ops_warnings(False)
    offsets = 100 * 8 * 18 * 9  # conv_offset: 2 * 3 * 3 channels
    assert analyzer.total() == 100 * 8 * 16 * 9 + offsets


def test_command_line_json(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [
        'get_flops.py',
        str(ROOT / 'configs/gc_r50_r16.py'), '--shape', '96', '--json',
        '--cfg-options', 'model.test_cfg.rpn.max_per_img=4'
    ])
    get_flops.main()
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res['params_M'] == pytest.approx(46.918, abs=1e-3)
    assert res['rois'] == {'bbox': [4], 'mask': [4]}
    assert res['flops_G'] == pytest.approx(
        sum(res['by_module'].values()), abs=2e-3)
    assert res['by_operator']['conv'] > 0 and res['by_operator']['linear'] > 0


@pytest.mark.slow
def test_gc_rows_increase_like_the_paper_at_full_size():
    """Table 2 at 1280x800: GC rows' FLOPs increase over the baseline is
    within 0.1 G of the paper's (docs/flops.md explains the +1 NL row and
    the absolute offset)."""

    def total(suffix):
        return get_flops.get_flops(str(ROOT / CFG.format(suffix)))['flops_G']

    base = total('')
    for suffix, paper in (('-gcb-r16-c3-c5', 0.2), ('-gcb-r16-c3', 0.1),
                          ('-gcb-r16-c5', 0.0), ('-snl-c3-c5', 0.2)):
        assert abs(total(suffix) - base - paper) <= 0.1, suffix
