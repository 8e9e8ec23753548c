"""Put trained results next to the paper's tables: the results table.

``configs/paper_index.yml`` lists one entry per paper row::

    - table: 2a            # 1, 2a..2f, 3a, 3b
      row: +all GC         # the row label as printed in the paper
      config: configs/...py
      paper: {bbox_mAP: 39.4, segm_mAP: 35.7, params_M: 46.9,
              flops_G: 279.6}

A run matches an entry when its config name (the config file stem, which
``tools/train.py`` uses for ``work_dirs/<name>`` and the config dump) is
the stem of ``config``. AP is compared in percent (the paper's unit);
MMEngine's mAP in ``[0, 1]`` is multiplied by 100.

:func:`results_table` writes the README's configs table (one row per
entry: paper box/mask AP, measured params/FLOPs, reproduced AP from the
work_dirs, empty where there is no run); :func:`write_csv` keeps every
number, differences and the run each came from included.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .csv_rows import write_rows_csv
from .work_dir_results import RunResult

PAPER_KEYS = ('bbox_mAP', 'segm_mAP', 'params_M', 'flops_G')
NOT_RUN = 'not run'


@dataclass
class PaperRow:
    """One entry of the paper index."""
    table: str
    row: str
    config: str
    paper: Dict[str, float]

    @property
    def name(self) -> str:
        return config_name(self.config)


def config_name(path: str) -> str:
    """``configs/gcnet/foo_1x_coco.py -> foo_1x_coco``."""
    return osp.splitext(osp.basename(path))[0]


def load_paper_index(path: str) -> List[PaperRow]:
    """Read and check ``paper_index.yml``; errors name the entry."""
    import yaml
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, list):
        raise ValueError(f'{path}: expected a list of entries, got '
                         f'{type(data).__name__}')
    rows = []
    for num, entry in enumerate(data, start=1):
        where = f'{path}: entry {num}'
        if not isinstance(entry, dict):
            raise ValueError(f'{where}: expected a mapping')
        missing = [k for k in ('table', 'row', 'config') if k not in entry]
        if missing:
            raise ValueError(f'{where}: missing {missing}')
        paper = entry.get('paper') or {}
        unknown = sorted(set(paper) - set(PAPER_KEYS))
        if unknown:
            raise ValueError(f'{where}: unknown paper keys {unknown}; '
                             f'expected some of {list(PAPER_KEYS)}')
        rows.append(
            PaperRow(
                table=str(entry['table']),
                row=str(entry['row']),
                config=str(entry['config']),
                paper={
                    k: float(v)
                    for k, v in paper.items()
                }))
    return rows


def _best_run(runs: Sequence[RunResult]) -> Optional[RunResult]:
    """Among runs of one config, one with metrics (the last in path
    order), else the last."""
    with_metrics = [r for r in runs if r.metrics]
    pool = with_metrics or list(runs)
    return pool[-1] if pool else None


def _percent(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(100 * value, 1)


def build_report(index: Sequence[PaperRow],
                 runs: Sequence[RunResult],
                 complexity: Optional[Dict[str, dict]] = None,
                 tables: Optional[Sequence[str]] = None) -> List[dict]:
    """One dict per index entry: paper and our numbers and differences.

    Args:
        index (Sequence[PaperRow]): Paper rows.
        runs (Sequence[RunResult]): Runs found in work_dirs.
        complexity (dict, optional): ``{config path or name: {"params_M":
            .., "flops_G": ..}}``, e.g. from
            :func:`~gcnet_plugin.analysis.complexity.fill_complexity`.
        tables (Sequence[str], optional): Keep only these tables.

    Returns:
        list[dict]: Keys ``table, row, config, box_paper, box_ours,
        box_diff, mask_paper, mask_ours, mask_diff, params_paper,
        params_ours, flops_paper, flops_ours, status, work_dir``; AP in
        percent, None where missing.
    """
    complexity = complexity or {}
    by_name: Dict[str, List[RunResult]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    out = []
    for entry in index:
        if tables and entry.table not in tables:
            continue
        run = _best_run(by_name.get(entry.name, []))
        ours = complexity.get(entry.config, complexity.get(entry.name, {}))
        row = dict(
            table=entry.table,
            row=entry.row,
            config=entry.config,
            params_paper=entry.paper.get('params_M'),
            params_ours=ours.get('params_M'),
            flops_paper=entry.paper.get('flops_G'),
            flops_ours=ours.get('flops_G'),
            status=NOT_RUN,
            work_dir=None)
        for short, key in (('box', 'bbox_mAP'), ('mask', 'segm_mAP')):
            paper = entry.paper.get(key)
            mine = _percent(run.metric(key)) if run else None
            row[f'{short}_paper'] = paper
            row[f'{short}_ours'] = mine
            row[f'{short}_diff'] = (None if paper is None or mine is None else
                                    round(mine - paper, 1))
        if run is not None:
            row['work_dir'] = run.work_dir
            row['status'] = run.source if run.metrics else 'no metrics yet'
        out.append(row)
    return out


def unmatched_runs(index: Sequence[PaperRow],
                   runs: Sequence[RunResult]) -> List[RunResult]:
    """Runs whose config is not in the index (e.g. the quickstart)."""
    names = {entry.name for entry in index}
    return [run for run in runs if run.name not in names]


TABLE_HEADER = ('| table | row | config | paper box AP | paper mask AP '
                '| params (M) | FLOPs (G) | reproduced box / mask AP |')


def _num(value: Optional[float]) -> str:
    return '' if value is None else f'{value:.1f}'


def _reproduced(row: dict) -> str:
    box, mask = row['box_ours'], row['mask_ours']
    if box is None and mask is None:
        return ''
    return f'{_num(box) or "-"} / {_num(mask) or "-"}'


def results_table(rows: Sequence[dict]) -> str:
    """The README's configs table, one line per row of
    :func:`build_report`.

    Columns: :data:`TABLE_HEADER`. The config links to its file (paths in
    the index are relative to the repository root, like the README);
    AP and params/FLOPs have one decimal; a cell with nothing to show is
    empty (no run, no metrics yet, not measured).
    """
    lines = [TABLE_HEADER, '|' + '---|' * (TABLE_HEADER.count('|') - 1)]
    for row in rows:
        config = row['config']
        cells = [
            row['table'], row['row'], f'[{osp.basename(config)}]({config})',
            _num(row['box_paper']),
            _num(row['mask_paper']),
            _num(row['params_ours']),
            _num(row['flops_ours']),
            _reproduced(row)
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def run_sources(rows: Sequence[dict],
                unmatched: Sequence[RunResult]) -> List[str]:
    """One line per filled row saying which run (and which of its
    results) filled it, then one per run that matches no row."""
    lines = [
        f'{row["table"]} {row["row"]}: {row["work_dir"]} ({row["status"]})'
        for row in rows if row['work_dir'] is not None
    ]
    lines += [
        f'run not in the index: {run.work_dir} '
        f'({run.source or "no metrics yet"})' for run in unmatched
    ]
    return lines


def write_csv(rows: Sequence[dict], path: str) -> None:
    """Every column of :func:`build_report`, ``None`` as an empty cell."""
    keys = [
        'table', 'row', 'config', 'box_paper', 'box_ours', 'box_diff',
        'mask_paper', 'mask_ours', 'mask_diff', 'params_paper', 'params_ours',
        'flops_paper', 'flops_ours', 'status', 'work_dir'
    ]
    write_rows_csv(path, rows, keys)
