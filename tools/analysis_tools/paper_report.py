"""Trained results next to the paper's Tables 1-3.

Reads what ``tools/train.py`` and ``tools/test.py`` left in work_dirs
(validation metrics in ``<ts>/vis_data/scalars.json``, test metrics in
``<ts>/<ts>.json``), matches each run to the rows of
``configs/paper_index.yml`` by config name, and prints paper box/mask AP,
ours, the difference, params and FLOPs. Rows without a run say
``not run``.

Example::

    python tools/analysis_tools/paper_report.py work_dirs \\
        --md work_dirs/paper_report.md --csv work_dirs/paper_report.csv \\
        --plot work_dirs/ap_per_epoch.png

``--measure-complexity`` runs ``tools/analysis_tools/get_flops.py CONFIG
--json`` for every listed config (slow on a CPU: it builds each full-size
model); ``--complexity FILE`` reads/updates a cache of those numbers.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, Sequence

from gcnet_plugin.analysis.paper_comparison import (build_report,
                                                    load_paper_index,
                                                    plot_curves, to_markdown,
                                                    to_text, unmatched_runs,
                                                    write_csv)
from gcnet_plugin.analysis.work_dir_results import find_runs

GET_FLOPS = osp.join(osp.dirname(osp.abspath(__file__)), 'get_flops.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Compare trained results with the GCNet paper')
    parser.add_argument('work_dirs', nargs='?', default='work_dirs')
    parser.add_argument('--index', default='configs/paper_index.yml')
    parser.add_argument(
        '--tables',
        nargs='+',
        default=None,
        help='only these tables, e.g. 2a 2b 3a (default: all)')
    parser.add_argument('--md', default=None, help='write Markdown here')
    parser.add_argument('--csv', default=None, help='write CSV here')
    parser.add_argument(
        '--plot',
        default=None,
        help='write validation AP per epoch of the runs to this PNG')
    parser.add_argument(
        '--complexity',
        default=None,
        help='JSON {config: {"params_M", "flops_G"}} of measured values')
    parser.add_argument(
        '--measure-complexity',
        action='store_true',
        help='run get_flops.py --json for configs missing from '
        '--complexity')
    return parser.parse_args()


def measure(configs: Sequence[str], known: Dict[str, dict]) -> None:
    """Fill ``known`` with ``get_flops.py --json`` for missing configs."""
    for config in configs:
        if config in known:
            continue
        print(f'measuring params/FLOPs of {config} ...', flush=True)
        proc = subprocess.run([sys.executable, GET_FLOPS, config, '--json'],
                              capture_output=True,
                              text=True)
        lines = [
            line for line in proc.stdout.splitlines()
            if line.strip().startswith('{')
        ]
        if proc.returncode != 0 or not lines:
            print(f'  failed (exit {proc.returncode}): '
                  f'{proc.stderr.strip().splitlines()[-1:]}')
            continue
        known[config] = json.loads(lines[-1])


def main() -> None:
    args = parse_args()
    index = load_paper_index(args.index)
    runs = find_runs(args.work_dirs) if osp.isdir(args.work_dirs) else []
    if not runs:
        print(f'no runs found under {args.work_dirs}')

    complexity: Dict[str, dict] = {}
    if args.complexity and osp.isfile(args.complexity):
        with open(args.complexity) as f:
            complexity = json.load(f)
    if args.measure_complexity:
        configs = list(
            dict.fromkeys(e.config for e in index
                          if not args.tables or e.table in args.tables))
        measure(configs, complexity)
        if args.complexity:
            with open(args.complexity, 'w') as f:
                json.dump(complexity, f, indent=2)

    rows = build_report(index, runs, complexity, args.tables)
    print(to_text(rows))
    others = unmatched_runs(index, runs)
    for run in others:
        print(f'run not in the index: {run.work_dir} '
              f'({run.source or "no metrics yet"})')
    if args.md:
        os.makedirs(osp.dirname(osp.abspath(args.md)), exist_ok=True)
        with open(args.md, 'w') as f:
            f.write(to_markdown(rows, others))
        print(f'wrote {args.md}')
    if args.csv:
        os.makedirs(osp.dirname(osp.abspath(args.csv)), exist_ok=True)
        write_csv(rows, args.csv)
        print(f'wrote {args.csv}')
    if args.plot:
        os.makedirs(osp.dirname(osp.abspath(args.plot)), exist_ok=True)
        drawn = plot_curves(runs, args.plot)
        print(f'wrote {args.plot} ({drawn} runs with validation AP)')


if __name__ == '__main__':
    main()
