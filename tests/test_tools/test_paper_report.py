"""tools/analysis_tools/paper_report.py writes the README's tables."""
import json

INDEX = """\
- table: 2a
  row: +all GC
  config: configs/gcnet/gc_1x_coco.py
  paper: {bbox_mAP: 39.4, segm_mAP: 35.7, params_M: 46.9, flops_G: 279.6}
- table: 2b
  row: afterAdd
  config: configs/gcnet/gc-afteradd_1x_coco.py
  paper: {bbox_mAP: 39.4, segm_mAP: 35.8}
- table: 4a
  row: +all GC
  config: configs/imagenet/gc_in1k.py
  paper: {top1: 77.70, top5: 93.66, params_M: 28.08, flops_G: 3.87}
"""


def test_table_with_reproduced_ap_and_cached_complexity(tmp_path, run_tool):
    work_dirs = tmp_path / 'work_dirs'
    test = work_dirs / 'gc_1x_coco' / '20240104_000000'
    test.mkdir(parents=True)
    (test / '20240104_000000.json').write_text(
        json.dumps({
            'coco/bbox_mAP': 0.396,
            'coco/segm_mAP': 0.355
        }))
    # an MMPretrain test: accuracy in percent
    cls_test = work_dirs / 'gc_in1k' / '20240105_000000'
    cls_test.mkdir(parents=True)
    (cls_test / '20240105_000000.json').write_text(
        json.dumps({
            'accuracy/top1': 77.812,
            'accuracy/top5': 93.6
        }))
    (work_dirs / 'complexity.json').write_text(
        json.dumps({
            'configs/gcnet/gc_1x_coco.py': {
                'params_M': 46.918,
                'flops_G': 259.919
            },
            'configs/imagenet/gc_in1k.py': {
                'params_M': 28.079,
                'flops_G': 3.866
            }
        }))
    (tmp_path / 'index.yml').write_text(INDEX)
    md = tmp_path / 'out' / 'results.md'
    printed = run_tool('analysis_tools/paper_report.py', work_dirs, '--index',
                       tmp_path / 'index.yml', '--md', md, '--csv',
                       tmp_path / 'out' / 'results.csv',
                       '--measure-complexity')
    table = md.read_text().splitlines()
    assert table[0] == ('| table | row | config | paper box AP | paper mask '
                        'AP | params (M) | FLOPs (G) | reproduced box / mask '
                        'AP |')
    assert table[2] == ('| 2a | +all GC | [gc_1x_coco.py]'
                        '(configs/gcnet/gc_1x_coco.py) | 39.4 | 35.7 | 46.9 '
                        '| 259.9 | 39.6 / 35.5 |')
    assert table[3].endswith('| 39.4 | 35.8 |  |  |  |')
    # the ImageNet table follows after an empty line
    assert table[4:6] == [
        '', '| table | row | config | paper top-1 | paper top-5 | params (M) '
        '| FLOPs (G) | reproduced top-1 / top-5 |'
    ]
    assert table[7] == ('| 4a | +all GC | [gc_in1k.py](configs/imagenet/'
                        'gc_in1k.py) | 77.70 | 93.66 | 28.08 | 3.87 | '
                        '77.81 / 93.60 |')
    # the cached config is not measured again; the missing one fails
    # (its file does not exist) and its cells stay empty
    assert printed.count('measuring params/FLOPs') == 1
    assert 'gc-afteradd_1x_coco.py ...\n  failed: FileNotFoundError' in printed
    assert md.read_text() in printed
    assert (f'2a +all GC: {work_dirs / "gc_1x_coco"} (test 20240104_000000)'
            in printed)
    assert (tmp_path / 'out' / 'results.csv').exists()
