"""tools/analysis_tools/benchmark_backbone.py: variants and command line."""
import json
import subprocess
import sys
from pathlib import Path

from mmcv.cnn import ContextBlock as MMCVContextBlock

from gcnet_plugin.models.layers import ContextBlock

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools/analysis_tools/benchmark_backbone.py'
sys.path.insert(0, str(ROOT / 'tools/analysis_tools'))
import benchmark_backbone  # noqa: E402


def _blocks(model, cls):
    return [m for m in model.modules() if type(m) is cls]


def test_variants_differ_only_in_their_blocks():
    plain = benchmark_backbone.build_backbone(None, 50)
    mmcv = benchmark_backbone.build_backbone(MMCVContextBlock, 50)
    ours = benchmark_backbone.build_backbone(ContextBlock, 50)
    # c3-c5 of ResNet-50: 4 + 6 + 3 residual blocks
    assert len(_blocks(mmcv, MMCVContextBlock)) == 13
    assert len(_blocks(ours, ContextBlock)) == 13
    assert not _blocks(plain, MMCVContextBlock) + _blocks(plain, ContextBlock)
    # same parameters, same names: the blocks are the only difference
    assert ({
        k: v.shape
        for k, v in mmcv.state_dict().items()
    } == {
        k: v.shape
        for k, v in ours.state_dict().items()
    })
    assert set(plain.state_dict()) < set(ours.state_dict())
    assert ours.training and mmcv.training and plain.training


def test_command_line_writes_added_time(tmp_path):
    out = tmp_path / 'backbone.json'
    proc = subprocess.run([
        sys.executable,
        str(TOOL), '--device', 'cpu', '--shape', '64', '96', '--repeats', '1',
        '--warmup', '0', '--json',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res['env']['shape'] == [2, 3, 64, 96]
    assert set(res['ms']) == {'resnet', 'mmcv_gc', 'gc'}
    for k in ('mmcv_gc', 'gc'):
        lo, hi = res['added_ms_min_max'][k]
        assert lo <= res['added_ms'][k] <= hi
    assert set(res['traffic_gib']) == {'resnet', 'mmcv_gc', 'gc'}
    # the blocks add bytes; ours fewer than mmcv's
    assert res['traffic_gib']['resnet'] < res['traffic_gib']['gc'] < res[
        'traffic_gib']['mmcv_gc']
    assert 0 < res['added_traffic_ratio_ours_to_mmcv'] < 1
    assert 'ours / mmcv' in proc.stdout
