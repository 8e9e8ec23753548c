"""tools/analysis_tools/benchmark_blocks.py end to end on small maps."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools/analysis_tools/benchmark_blocks.py'


def test_benchmark_writes_ratios_to_mmcv(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable,
        str(TOOL), '--device', 'cpu', '--levels', 'c3', '--nl-levels', 'c3',
        '--map-size', '6', '10', '--repeats', '2', '--warmup', '0', '--json',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res['env']['map_size'] == [6, 10]
    level = res['levels']['c3']
    assert level['shape'] == [2, 512, 6, 10]
    cases = level['cases']
    assert set(cases) >= {
        'mmcv_gc', 'gc', 'snl', 'se', 'nl_embedded_gaussian',
        'mmcv_nl_embedded_gaussian'
    }
    assert cases['mmcv_gc']['time_ms_ratio'] == 1.0
    assert cases['mmcv_gc']['passes_ratio'] == 1.0
    for rec in cases.values():
        assert rec['time_ms'] > 0 and rec['passes'] > 0
    # same computation as mmcv's GC block, a third fewer map passes
    assert level['numerics_vs_mmcv']['max_abs_diff_out'] < 1e-5
    assert level['numerics_vs_mmcv']['max_abs_diff_grad'] < 1e-5
    assert cases['gc']['passes_ratio'] < 1.0
    assert 'passes' in proc.stdout
