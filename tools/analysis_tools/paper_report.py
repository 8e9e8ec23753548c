"""The README's configs tables with the reproduced column filled in.

One row per row of the paper (``configs/paper_index.yml``), one table per
dataset: COCO (Tables 1-3), ImageNet (Table 4), Kinetics (Table 5). Each
row has its config, the paper's two figures (box/mask AP, or top-1/top-5
accuracy), params and FLOPs measured by ``get_flops.py`` (see
docs/flops.md) and the same two figures of your run of that config, read
from what ``tools/train.py`` / ``tools/test.py`` left in work_dirs (a
test result, else the last validation; empty: no run yet). Prints the
Markdown tables and which run filled which row.

Example::

    python tools/analysis_tools/paper_report.py work_dirs \\
        --md work_dirs/results.md --csv work_dirs/results.csv \\
        --plot work_dirs/ap_per_epoch.png

Params/FLOPs are read from ``--complexity`` (default
``<work_dirs>/complexity.json`` when it exists, else the measured values
shipped in ``docs/``: COCO at 1280x800, ImageNet at 224x224, Kinetics
for one 8x224x224 clip); ``--measure-complexity`` measures the configs
missing from it and saves it to ``<work_dirs>/complexity.json`` (slow on
a CPU: each full-size model is built and traced).
"""
import argparse
import json
import os
import os.path as osp

import gcnet_plugin.analysis.paper_comparison as paper
from gcnet_plugin.analysis.complexity import fill_complexity
from gcnet_plugin.analysis.training_curves import plot_ap_curves
from gcnet_plugin.analysis.work_dir_results import find_runs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Results tables: the paper, params/FLOPs, your runs')
    parser.add_argument('work_dirs', nargs='?', default='work_dirs')
    parser.add_argument('--index', default='configs/paper_index.yml')
    parser.add_argument(
        '--tables',
        nargs='+',
        help='only these tables, e.g. 2a 2b 3a 4a 5 (default: all)')
    parser.add_argument('--md', help='write the Markdown tables here')
    parser.add_argument(
        '--csv', help='write every number (differences, sources) here')
    parser.add_argument(
        '--plot', help='write validation AP per epoch of the runs here')
    parser.add_argument(
        '--complexity',
        help='JSON {config: {"params_M", "flops_G"}} (default: '
        '<work_dirs>/complexity.json, else ' +
        ', '.join(paper.SHIPPED_COMPLEXITY) + ')')
    parser.add_argument(
        '--measure-complexity',
        action='store_true',
        help='measure the configs missing from --complexity, save it')
    return parser.parse_args()


def _write(path: str, text: str, quiet: bool = False) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    if not quiet:
        print(f'wrote {path}')


def main() -> None:
    args = parse_args()
    index = paper.load_paper_index(args.index)
    runs = find_runs(args.work_dirs) if osp.isdir(args.work_dirs) else []
    complexity_file = args.complexity or osp.join(args.work_dirs,
                                                  'complexity.json')
    sources = [complexity_file]
    if not args.complexity and not osp.isfile(complexity_file):
        sources = list(paper.SHIPPED_COMPLEXITY)
    complexity = paper.read_complexity(sources)
    if args.measure_complexity:
        configs = [
            e.config for e in index
            if not args.tables or e.table in args.tables
        ]
        fill_complexity(
            list(dict.fromkeys(configs)),
            complexity,
            on_measured=lambda known: _write(
                complexity_file,
                json.dumps(known, indent=2) + '\n',
                quiet=True))
        print(f'params/FLOPs of {len(complexity)} configs in '
              f'{complexity_file}')

    rows = paper.build_report(index, runs, complexity, args.tables)
    table = paper.results_table(rows)
    print(table)
    print('\n'.join(
        paper.run_sources(rows, paper.unmatched_runs(index, runs))
        or [f'no runs under {args.work_dirs}']))
    if args.md:
        _write(args.md, table)
    if args.csv:
        os.makedirs(osp.dirname(osp.abspath(args.csv)), exist_ok=True)
        paper.write_csv(rows, args.csv)
        print(f'wrote {args.csv}')
    if args.plot:
        os.makedirs(osp.dirname(osp.abspath(args.plot)), exist_ok=True)
        drawn = plot_ap_curves(runs, args.plot)
        print(f'wrote {args.plot} ({drawn} runs with validation AP)')


if __name__ == '__main__':
    main()
