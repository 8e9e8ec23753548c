"""Results report on fake work_dirs and a fake paper index."""
import csv
import json
import runpy
import sys
from pathlib import Path

import pytest

from gcnet_plugin.analysis.paper_comparison import (build_report,
                                                    load_paper_index,
                                                    plot_curves, to_markdown,
                                                    unmatched_runs)
from gcnet_plugin.analysis.work_dir_results import find_runs, read_run

REPO = Path(__file__).resolve().parents[2]

INDEX = """\
- table: 2a
  row: baseline
  config: configs/gcnet/base_1x_coco.py
  paper: {bbox_mAP: 37.2, segm_mAP: 33.8, flops_G: 279.4}
- table: 2a
  row: +all GC
  config: configs/gcnet/gc_1x_coco.py
  paper: {bbox_mAP: 39.4, segm_mAP: 35.7, params_M: 46.9, flops_G: 279.6}
- table: 3b
  row: X101 +GC
  config: configs/gcnet/x101-gc_1x_coco-test-dev.py
  paper: {bbox_mAP: 45.4}
"""


def _val(epoch, box, mask):
    return {
        'coco/bbox_mAP': box,
        'coco/bbox_mAP_50': 0.6,
        'coco/segm_mAP': mask,
        'data_time': 0.01,
        'time': 0.2,
        'step': epoch
    }


def _write_lines(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')


def make_work_dirs(root: Path) -> None:
    """Layout written by mmengine 0.10.7 (see work_dir_results)."""
    train = {'lr': 0.02, 'loss': 1.3, 'epoch': 1, 'iter': 50, 'step': 50}
    # baseline: two launches (resumed), val after epochs 1, 2 then 3
    base = root / 'base_1x_coco'
    (base / 'base_1x_coco.py').parent.mkdir(parents=True)
    (base / 'base_1x_coco.py').write_text('model = dict()\n')
    _write_lines(
        base / '20240101_000000/vis_data/scalars.json',
        [train, _val(1, 0.301, 0.28), train,
         _val(2, 0.35, 0.31)])
    _write_lines(base / '20240102_000000/vis_data/scalars.json',
                 [train, _val(2, 0.352, 0.312),
                  _val(3, 0.3746, 0.339)])
    # gc: trained, then tools/test.py wrote the final metrics
    gc = root / 'custom' / 'gc_run'
    gc.mkdir(parents=True)
    (gc / 'gc_1x_coco.py').write_text('model = dict()\n')
    _write_lines(gc / '20240103_000000/vis_data/scalars.json',
                 [_val(12, 0.390, 0.350)])
    test_dir = gc / '20240104_000000'
    test_dir.mkdir()
    (test_dir / '20240104_000000.json').write_text(
        json.dumps({
            'coco/bbox_mAP': 0.396,
            'coco/segm_mAP': 0.355,
            'time': 0.3
        }))
    (test_dir / '20240104_000000.log').write_text('log\n')
    # a quickstart run matching no paper row
    quick = root / 'quickstart'
    (quick / '20240105_000000' / 'vis_data').mkdir(parents=True)
    (quick / 'quickstart.py').write_text('x = 1\n')
    _write_lines(quick / '20240105_000000/vis_data/scalars.json',
                 [_val(1, 0.0, 0.0), _val(2, 0.011, 0.008)])


def test_read_runs(tmp_path):
    make_work_dirs(tmp_path)
    runs = {r.name: r for r in find_runs(str(tmp_path))}
    assert set(runs) == {'base_1x_coco', 'gc_1x_coco', 'quickstart'}
    base = runs['base_1x_coco']
    assert base.metric('bbox_mAP') == 0.3746
    assert base.source == 'val epoch 3'
    # resumed run: epoch 2 from the later launch
    assert [e for e, _ in base.curve] == [1, 2, 3]
    assert base.curve[1][1]['coco/bbox_mAP'] == 0.352
    gc = runs['gc_1x_coco']
    assert gc.metric('segm_mAP') == 0.355
    assert gc.source == 'test 20240104_000000'
    assert read_run(str(tmp_path / 'quickstart')).metric('bbox_mAP') == 0.011


def test_build_report(tmp_path):
    make_work_dirs(tmp_path)
    (tmp_path / 'index.yml').write_text(INDEX)
    index = load_paper_index(str(tmp_path / 'index.yml'))
    runs = find_runs(str(tmp_path))
    rows = build_report(
        index,
        runs,
        complexity={
            'configs/gcnet/gc_1x_coco.py': {
                'params_M': 46.93,
                'flops_G': 279.7
            }
        })
    base, gc, xgc = rows
    assert base['box_ours'] == 37.5 and base['box_diff'] == 0.3
    assert base['mask_ours'] == 33.9 and base['mask_diff'] == 0.1
    assert base['params_ours'] is None
    assert gc['box_ours'] == 39.6 and gc['box_diff'] == 0.2
    assert gc['mask_diff'] == -0.2
    assert gc['params_ours'] == 46.93 and gc['params_paper'] == 46.9
    assert xgc['status'] == 'not run' and xgc['box_ours'] is None
    assert xgc['mask_paper'] is None
    assert [r.name for r in unmatched_runs(index, runs)] == ['quickstart']
    assert len(build_report(index, runs, tables=['3b'])) == 1

    md = to_markdown(rows, unmatched_runs(index, runs)).splitlines()
    assert '#### Table 2a' in md and '#### Table 3b' in md
    gc_line = next(line for line in md if line.startswith('| +all GC'))
    cells = [c.strip() for c in gc_line.strip('|').split('|')]
    assert cells[:8] == [
        '+all GC', '`gc_1x_coco`', '39.4', '39.6', '+0.2', '35.7', '35.5',
        '-0.2'
    ]
    assert cells[-1] == 'test 20240104_000000'
    assert any('not run' in line for line in md)
    assert any(line.startswith('| `quickstart` | 1.1 | 0.8 |') for line in md)


def test_bad_index(tmp_path):
    path = tmp_path / 'index.yml'
    path.write_text('- table: 2a\n  row: x\n')
    with pytest.raises(ValueError, match='entry 1: missing'):
        load_paper_index(str(path))
    path.write_text('- {table: 2a, row: x, config: a.py, '
                    'paper: {box: 1}}\n')
    with pytest.raises(ValueError, match='unknown paper keys'):
        load_paper_index(str(path))


def test_paper_report_cli(tmp_path, monkeypatch, capsys):
    make_work_dirs(tmp_path / 'work_dirs')
    (tmp_path / 'index.yml').write_text(INDEX)
    out = tmp_path / 'out'
    script = str(REPO / 'tools/analysis_tools/paper_report.py')
    monkeypatch.setattr(sys, 'argv', [
        script,
        str(tmp_path / 'work_dirs'), '--index',
        str(tmp_path / 'index.yml'), '--md',
        str(out / 'r.md'), '--csv',
        str(out / 'r.csv'), '--plot',
        str(out / 'ap.png')
    ])
    runpy.run_path(script, run_name='__main__')
    printed = capsys.readouterr().out
    assert 'not run' in printed
    assert '(3 runs with validation AP)' in printed
    with open(out / 'r.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['row'] for r in rows] == ['baseline', '+all GC', 'X101 +GC']
    assert rows[1]['box_ours'] == '39.6' and rows[2]['status'] == 'not run'
    assert (out / 'ap.png').stat().st_size > 1000
    assert '| baseline |' in (out / 'r.md').read_text()


def test_plot_skips_runs_without_curve(tmp_path):
    make_work_dirs(tmp_path)
    runs = find_runs(str(tmp_path))
    assert plot_curves(runs, str(tmp_path / 'p.png')) == 3
    assert plot_curves([], str(tmp_path / 'q.png')) == 0


def test_measure_complexity_parses_get_flops_json(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'paper_report_tool', REPO / 'tools/analysis_tools/paper_report.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    fake = tmp_path / 'fake_get_flops.py'
    fake.write_text(
        'import json, sys\n'
        'if "bad" in sys.argv[1]:\n'
        '    sys.exit("cannot build")\n'
        'assert sys.argv[2] == "--json"\n'
        'print("some log line")\n'
        'print(json.dumps({"params_M": len(sys.argv[1]), "flops_G": 1.5}))\n')
    tool.GET_FLOPS = str(fake)
    known = {'cached.py': {'params_M': 1.0, 'flops_G': 2.0}}
    tool.measure(['cached.py', 'abcd.py', 'bad.py'], known)
    assert known == {
        'cached.py': {
            'params_M': 1.0,
            'flops_G': 2.0
        },
        'abcd.py': {
            'params_M': 7,
            'flops_G': 1.5
        },
    }
