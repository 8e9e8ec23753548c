"""Print the COCO bbox/segm AP table of a ``tools/test.py`` run.

Reads the metrics MMEngine writes for a test run
(``<work_dir>/<timestamp>/<timestamp>.json``; given a work dir, the newest
one with metrics; see :mod:`gcnet_plugin.analysis.work_dir_results`).

Example::

    python tools/analysis_tools/coco_ap_table.py work_dirs/quickstart/test
"""
import argparse

from gcnet_plugin.analysis.coco_ap_table import format_ap_table
from gcnet_plugin.analysis.work_dir_results import (find_test_metrics,
                                                    read_test_metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description='Print COCO AP table')
    parser.add_argument('src', help='test work dir or metrics json')
    args = parser.parse_args()
    path = find_test_metrics(args.src)
    print(format_ap_table(read_test_metrics(path)))
    print(f'(from {path})')


if __name__ == '__main__':
    main()
