"""tools/analysis_tools/benchmark_backbone.py end to end on a tiny input."""
import json


def test_command_line_writes_added_time(tmp_path, run_tool):
    out = tmp_path / 'backbone.json'
    printed = run_tool('analysis_tools/benchmark_backbone.py', '--device',
                       'cpu', '--shape', '64', '96', '--repeats', '2',
                       '--warmup', '0', '--json', out)
    res = json.loads(out.read_text())
    assert res['env']['shape'] == [2, 3, 64, 96]
    assert res['env']['repeats'] == 2
    assert set(res['ms']) == {'resnet', 'mmcv_gc', 'gc'}
    assert res['peak_mb'] == {'resnet': None, 'mmcv_gc': None, 'gc': None}
    for k in ('mmcv_gc', 'gc'):
        lo, hi = res['added_ms_min_max'][k]
        assert lo <= res['added_ms'][k] <= hi
    # the blocks add bytes; ours fewer than mmcv's
    traffic = res['traffic_gib']
    assert traffic['resnet'] < traffic['gc'] < traffic['mmcv_gc']
    assert 0 < res['added_traffic_ratio_ours_to_mmcv'] < 1
    lines = printed.splitlines()
    head = next(i for i, line in enumerate(lines)
                if line.startswith('backbone'))
    assert [line.split()[0] for line in lines[head + 1:head + 4]
            ] == ['resnet', 'mmcv_gc', 'gc']
    assert lines[-2].startswith("GC blocks' added time, ours / mmcv: ")
    assert lines[-1] == f'wrote {out}'
