"""The results tables: paper rows, measured params/FLOPs and reproduced
AP and accuracy from fake work_dirs."""
import csv
import json

import pytest

import gcnet_plugin.analysis.paper_comparison as paper
from gcnet_plugin.analysis.work_dir_results import find_runs

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
COMPLEXITY = {
    'configs/gcnet/gc_1x_coco.py': {
        'params_M': 46.918,
        'flops_G': 259.919
    },
    'base_1x_coco': {  # by config name also works
        'params_M': 44.4,
        'flops_G': 259.8
    },
}


def _write_lines(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


@pytest.fixture
def work_dirs(tmp_path):
    """base: validations only; gc: trained, then tested; a quickstart
    run that matches no paper row; x101: never run."""
    root = tmp_path / 'work_dirs'
    base = root / 'base_1x_coco'
    _write_lines(base / '20240101_000000/vis_data/scalars.json', [
        {
            'loss': 1.3,
            'step': 50
        },
        {
            'coco/bbox_mAP': 0.3746,
            'coco/segm_mAP': 0.339,
            'step': 12
        },
    ])
    (base / 'base_1x_coco.py').write_text('model = dict()\n')
    gc = root / 'custom' / 'gc_run'
    _write_lines(gc / '20240103_000000/vis_data/scalars.json',
                 [{
                     'coco/bbox_mAP': 0.390,
                     'coco/segm_mAP': 0.350,
                     'step': 12
                 }])
    (gc / 'gc_1x_coco.py').write_text('model = dict()\n')
    (gc / '20240104_000000').mkdir()
    (gc / '20240104_000000' / '20240104_000000.json').write_text(
        json.dumps({
            'coco/bbox_mAP': 0.396,
            'coco/segm_mAP': 0.355
        }))
    _write_lines(root / 'quickstart/20240105_000000/vis_data/scalars.json',
                 [{
                     'coco/bbox_mAP': 0.011,
                     'coco/segm_mAP': 0.008,
                     'step': 2
                 }])
    (tmp_path / 'index.yml').write_text(INDEX)
    return root


def _cells(line: str) -> list:
    return [c.strip() for c in line.strip().strip('|').split('|')]


def test_reproduced_column_filled_from_work_dirs(work_dirs):
    index = paper.load_paper_index(str(work_dirs.parent / 'index.yml'))
    runs = find_runs(str(work_dirs))
    rows = paper.build_report(index, runs, COMPLEXITY)
    lines = paper.results_table(rows).splitlines()
    assert lines[0] == paper.TABLE_HEADER
    assert _cells(lines[1]) == ['---'] * 8
    assert [_cells(line) for line in lines[2:]] == [
        [
            '2a', 'baseline',
            '[base_1x_coco.py](configs/gcnet/base_1x_coco.py)', '37.2', '33.8',
            '44.4', '259.8', '37.5 / 33.9'
        ],
        [
            '2a', '+all GC', '[gc_1x_coco.py](configs/gcnet/gc_1x_coco.py)',
            '39.4', '35.7', '46.9', '259.9', '39.6 / 35.5'
        ],
        # never run, not measured: empty cells
        [
            '3b', 'X101 +GC', '[x101-gc_1x_coco-test-dev.py]'
            '(configs/gcnet/x101-gc_1x_coco-test-dev.py)', '45.4', '', '', '',
            ''
        ],
    ]
    # the test result wins over the last validation of the same run
    gc = rows[1]
    assert gc['status'] == 'test 20240104_000000'
    assert gc['box_diff'] == 0.2 and gc['mask_diff'] == -0.2
    assert paper.run_sources(rows, paper.unmatched_runs(index, runs)) == [
        f'2a baseline: {work_dirs / "base_1x_coco"} (val epoch 12)',
        f'2a +all GC: {work_dirs / "custom" / "gc_run"} '
        '(test 20240104_000000)',
        f'run not in the index: {work_dirs / "quickstart"} (val epoch 2)',
    ]


def test_missing_work_dirs_leave_the_column_empty(tmp_path):
    (tmp_path / 'index.yml').write_text(INDEX)
    index = paper.load_paper_index(str(tmp_path / 'index.yml'))
    rows = paper.build_report(index, [], tables=['2a'])
    assert [r['row'] for r in rows] == ['baseline', '+all GC']
    lines = paper.results_table(rows).splitlines()
    assert [_cells(line)[-1] for line in lines[2:]] == ['', '']
    assert [_cells(line)[5:7] for line in lines[2:]] == [['', '']] * 2
    assert all(r['status'] == 'not run' for r in rows)


def test_run_without_metrics_gives_an_empty_cell(work_dirs):
    (work_dirs / 'x101-gc_1x_coco-test-dev' /
     '20240106_000000').mkdir(parents=True)
    index = paper.load_paper_index(str(work_dirs.parent / 'index.yml'))
    rows = paper.build_report(index, find_runs(str(work_dirs)), tables=['3b'])
    assert rows[0]['status'] == 'no metrics yet'
    assert _cells(paper.results_table(rows).splitlines()[2])[-1] == ''


def test_csv_keeps_every_number(work_dirs, tmp_path):
    index = paper.load_paper_index(str(work_dirs.parent / 'index.yml'))
    rows = paper.build_report(index, find_runs(str(work_dirs)), COMPLEXITY)
    paper.write_csv(rows, str(tmp_path / 'r.csv'))
    with open(tmp_path / 'r.csv') as f:
        written = list(csv.DictReader(f))
    assert [r['row'] for r in written] == ['baseline', '+all GC', 'X101 +GC']
    assert written[1]['box_ours'] == '39.6'
    assert written[1]['params_paper'] == '46.9'
    assert written[1]['params_ours'] == '46.918'
    assert written[2]['status'] == 'not run'
    assert written[2]['box_ours'] == ''


def test_bad_index(tmp_path):
    path = tmp_path / 'index.yml'
    path.write_text('- table: 2a\n  row: x\n')
    with pytest.raises(ValueError, match='entry 1: missing'):
        paper.load_paper_index(str(path))
    path.write_text('- {table: 2a, row: x, config: a.py, '
                    'paper: {box: 1}}\n')
    with pytest.raises(ValueError, match='unknown paper keys'):
        paper.load_paper_index(str(path))


ACCURACY_INDEX = """\
- table: 2a
  row: +all GC
  config: configs/gcnet/gc_1x_coco.py
  paper: {bbox_mAP: 39.4, segm_mAP: 35.7}
- table: 4a
  row: +all GC
  config: configs/imagenet/gc_in1k.py
  paper: {top1: 77.70, top5: 93.66, params_M: 28.08, flops_G: 3.87}
- table: 5
  row: +all GC
  config: configs/kinetics/gc_k400.py
  paper: {top1: 75.85, top5: 92.25, params_M: 42.45, flops_G: 39.35}
"""


@pytest.fixture
def accuracy_runs(tmp_path):
    """An MMPretrain test (percent) and an MMAction2 validation
    (fractions), as their evaluators log them."""
    root = tmp_path / 'work_dirs'
    test = root / 'gc_in1k' / '20240101_000000'
    test.mkdir(parents=True)
    (test / '20240101_000000.json').write_text(
        json.dumps({
            'accuracy/top1': 77.812,
            'accuracy/top5': 93.6,
            'data_time': 0.1
        }))
    _write_lines(root / 'gc_k400/20240102_000000/vis_data/scalars.json', [
        {
            'loss': 2.0,
            'step': 10
        },
        {
            'acc/top1': 0.7591,
            'acc/top5': 0.9204,
            'acc/mean1': 0.7,
            'step': 150
        },
    ])
    (tmp_path / 'index.yml').write_text(ACCURACY_INDEX)
    return root


def test_accuracy_sections_next_to_the_paper(accuracy_runs):
    index = paper.load_paper_index(str(accuracy_runs.parent / 'index.yml'))
    rows = paper.build_report(index, find_runs(str(accuracy_runs)), {
        'configs/imagenet/gc_in1k.py': {
            'params_M': 28.079,
            'flops_G': 3.866
        }
    })
    assert [r['section'] for r in rows] == ['COCO', 'ImageNet', 'Kinetics']
    imagenet, kinetics = rows[1], rows[2]
    # MMPretrain's accuracy is a percentage, MMAction2's a fraction
    assert (imagenet['top1_ours'], imagenet['top5_ours']) == (77.81, 93.6)
    assert (kinetics['top1_ours'], kinetics['top5_ours']) == (75.91, 92.04)
    assert imagenet['top1_diff'] == 0.11 and kinetics['top5_diff'] == -0.21
    assert imagenet['box_ours'] is None and rows[0]['top1_paper'] is None
    assert kinetics['status'] == 'val epoch 150'
    tables = paper.section_tables(rows)
    assert [name for name, _ in tables] == ['COCO', 'ImageNet', 'Kinetics']
    text = paper.results_table(rows)
    assert text == '\n'.join(table for _, table in tables)
    blocks = text.split('\n\n')
    assert len(blocks) == 3
    assert blocks[0].splitlines()[0] == paper.TABLE_HEADER
    assert blocks[1].splitlines()[0] == (
        '| table | row | config | paper top-1 | paper top-5 | params (M) '
        '| FLOPs (G) | reproduced top-1 / top-5 |')
    assert [_cells(line) for line in blocks[1].splitlines()[2:]] == [[
        '4a', '+all GC', '[gc_in1k.py](configs/imagenet/gc_in1k.py)', '77.70',
        '93.66', '28.08', '3.87', '77.81 / 93.60'
    ]]
    assert _cells(blocks[2].splitlines()[2])[3:] == [
        '75.85', '92.25', '', '', '75.91 / 92.04'
    ]


def test_a_section_without_rows_has_no_table(accuracy_runs):
    index = paper.load_paper_index(str(accuracy_runs.parent / 'index.yml'))
    rows = paper.build_report(index, [], tables=['5'])
    assert [name for name, _ in paper.section_tables(rows)] == ['Kinetics']
    assert paper.results_table(rows).count('| table | row |') == 1


@pytest.mark.parametrize('entry,match', [
    ('{table: 4a, row: x, config: a.py, paper: {bbox_mAP: 1}}',
     r"unknown paper keys \['bbox_mAP'\] for a ImageNet table"),
    ('{table: 2a, row: x, config: a.py, paper: {top1: 1}}',
     r"unknown paper keys \['top1'\] for a COCO table"),
    ('{table: 6, row: x, config: a.py}', "table '6' is none of the paper"),
])
def test_index_keys_belong_to_the_section(tmp_path, entry, match):
    path = tmp_path / 'index.yml'
    path.write_text(f'- {entry}\n')
    with pytest.raises(ValueError, match=match):
        paper.load_paper_index(str(path))


def test_read_complexity_merges_the_files_that_exist(tmp_path):
    (tmp_path / 'a.json').write_text(
        json.dumps({
            'x.py': {
                'params_M': 1.0
            },
            'y.py': {
                'params_M': 2.0
            }
        }))
    (tmp_path / 'b.json').write_text(json.dumps({'y.py': {'params_M': 3.0}}))
    paths = [str(tmp_path / n) for n in ('a.json', 'missing.json', 'b.json')]
    assert paper.read_complexity(paths) == {
        'x.py': {
            'params_M': 1.0
        },
        'y.py': {
            'params_M': 3.0
        }
    }
