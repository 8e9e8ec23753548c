"""Print the COCO bbox/segm AP table of a ``tools/test.py`` run.

Reads the metrics JSON that MMEngine writes for a test run
(``<work_dir>/<timestamp>/<timestamp>.json``; given a work dir, the newest
one with ``coco/`` metrics) and prints one row per metric type.

Example::

    python tools/analysis_tools/coco_ap_table.py work_dirs/quickstart/test
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, Sequence

TYPES = ('bbox', 'segm')
COLUMNS = (('mAP', 'mAP'), ('AP50', 'mAP_50'), ('AP75', 'mAP_75'),
           ('APs', 'mAP_s'), ('APm', 'mAP_m'), ('APl', 'mAP_l'))


def find_metrics(src: str) -> str:
    """The newest ``<ts>/<ts>.json`` under ``src`` holding COCO metrics."""
    if osp.isfile(src):
        return src
    for path in sorted(glob.glob(osp.join(src, '*', '*.json')), reverse=True):
        with open(path) as f:
            text = f.read()
        if '"coco/' in text:
            return path
    raise FileNotFoundError(f'no test metrics (*/<timestamp>.json with '
                            f'coco/ keys) under {src}; run tools/test.py')


def load_metrics(path: str) -> Dict[str, float]:
    """The last JSON object in ``path`` (one per line)."""
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    return json.loads(lines[-1])


def format_table(metrics: Dict[str, float], types: Sequence = TYPES) -> str:
    """A fixed-width table: a row per type, COCO's AP columns."""
    header = 'type  ' + ''.join(f'{name:>7}' for name, _ in COLUMNS)
    lines = [header, '-' * len(header)]
    for t in types:
        if f'coco/{t}_mAP' not in metrics:
            continue
        cells = ''.join(f'{metrics.get(f"coco/{t}_{key}", float("nan")):7.3f}'
                        for _, key in COLUMNS)
        lines.append(f'{t:<6}{cells}')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description='Print COCO AP table')
    parser.add_argument('src', help='test work dir or metrics json')
    args = parser.parse_args()
    path = find_metrics(args.src)
    print(format_table(load_metrics(path)))
    print(f'(from {path})')


if __name__ == '__main__':
    main()
