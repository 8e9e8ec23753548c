"""tools/analysis_tools/benchmark_blocks.py end to end on small maps."""
import json


def test_benchmark_writes_ratios_to_mmcv(tmp_path, run_tool):
    out = tmp_path / 'bench.json'
    printed = run_tool('analysis_tools/benchmark_blocks.py', '--device', 'cpu',
                       '--levels', 'c3', '--nl-levels', 'c3', '--map-size',
                       '6', '10', '--repeats', '2', '--warmup', '0', '--json',
                       out)
    res = json.loads(out.read_text())
    assert res['env']['map_size'] == [6, 10]
    assert res['env']['repeats'] == 2 and res['env']['warmup'] == 0
    level = res['levels']['c3']
    assert level['shape'] == [2, 512, 6, 10]
    cases = level['cases']
    assert list(cases) == [
        'mmcv_gc', 'gc', 'snl', 'se', 'nl_embedded_gaussian',
        'mmcv_nl_embedded_gaussian'
    ]
    # the printed table: a header, then one row per case with its ratios
    rows = printed.splitlines()
    head = next(i for i, line in enumerate(rows) if line.startswith('block'))
    assert [line.split()[0] for line in rows[head + 1:head + 7]] == list(cases)
    base = rows[head + 1].split()
    assert base[2] == '1.00'  # mmcv's time over itself
    assert 'ours vs mmcv GC: max|dout|' in printed
