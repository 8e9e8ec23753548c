"""Put trained results next to the paper's tables.

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
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .csv_rows import write_rows_csv
from .work_dir_results import RunResult, pick_metric

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
            .., "flops_G": ..}}`` measured by ``get_flops.py --json``.
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


COLUMNS = [
    ('row', 'Row'),
    ('config', 'Config'),
    ('box_paper', 'box AP paper'),
    ('box_ours', 'box AP ours'),
    ('box_diff', 'diff'),
    ('mask_paper', 'mask AP paper'),
    ('mask_ours', 'mask AP ours'),
    ('mask_diff', 'diff'),
    ('params_paper', 'Params (M) paper'),
    ('params_ours', 'Params (M) ours'),
    ('flops_paper', 'FLOPs (G) paper'),
    ('flops_ours', 'FLOPs (G) ours'),
    ('status', 'Result'),
]


def _cell(key: str, value) -> str:
    if value is None:
        return '-'
    if key.endswith('_diff'):
        return f'{value:+.1f}'
    if key == 'config':
        return f'`{config_name(value)}`'
    if isinstance(value, float):
        return f'{value:.1f}'
    return str(value)


def to_markdown(rows: Sequence[dict], others: Sequence[RunResult] = ()) -> str:
    """One Markdown table per paper table, in index order, then the runs
    that match no paper row."""
    parts = []
    tables: List[str] = []
    for row in rows:
        if row['table'] not in tables:
            tables.append(row['table'])
    for table in tables:
        parts.append(f'#### Table {table}\n')
        parts.append('| ' + ' | '.join(h for _, h in COLUMNS) + ' |')
        parts.append('|' + '|'.join(
            ':--' if k in ('row', 'config', 'status') else '--:'
            for k, _ in COLUMNS) + '|')
        for row in rows:
            if row['table'] == table:
                parts.append('| ' +
                             ' | '.join(_cell(k, row[k])
                                        for k, _ in COLUMNS) + ' |')
        parts.append('')
    if others:
        parts.append('#### Runs not in the paper index\n')
        parts.append('| Run | box AP | mask AP | Result |')
        parts.append('|:--|--:|--:|:--|')
        for run in others:
            box = _percent(run.metric('bbox_mAP'))
            mask = _percent(run.metric('segm_mAP'))
            parts.append(f'| `{run.name}` | {_cell("box", box)} | '
                         f'{_cell("mask", mask)} | '
                         f'{run.source or "no metrics yet"} |')
        parts.append('')
    return '\n'.join(parts)


def to_text(rows: Sequence[dict]) -> str:
    """Plain aligned table for the terminal."""
    keys = ['table'] + [k for k, _ in COLUMNS if k != 'config']
    heads = ['Table'] + [h for k, h in COLUMNS if k != 'config']
    lines = [[_cell(k, row[k]) for k in keys] for row in rows]
    widths = [
        max([len(h)] + [len(line[i]) for line in lines])
        for i, h in enumerate(heads)
    ]
    out = ['  '.join(h.ljust(w) for h, w in zip(heads, widths))]
    out += [
        '  '.join(c.ljust(w) for c, w in zip(line, widths)) for line in lines
    ]
    return '\n'.join(out)


def write_csv(rows: Sequence[dict], path: str) -> None:
    keys = [
        'table', 'row', 'config', 'box_paper', 'box_ours', 'box_diff',
        'mask_paper', 'mask_ours', 'mask_diff', 'params_paper', 'params_ours',
        'flops_paper', 'flops_ours', 'status', 'work_dir'
    ]
    write_rows_csv(path, rows, keys)


def plot_curves(runs: Sequence[RunResult], path: str) -> int:
    """Validation box and mask AP (percent) per epoch, one line per run.

    Returns:
        int: Number of runs drawn (runs without validations are skipped).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    drawn = 0
    for run in runs:
        if not run.curve:
            continue
        drawn += 1
        epochs = [epoch for epoch, _ in run.curve]
        for ax, key in zip(axes, ('bbox_mAP', 'segm_mAP')):
            values = [pick_metric(m, key) for _, m in run.curve]
            points = [(e, 100 * v) for e, v in zip(epochs, values)
                      if v is not None]
            if points:
                ax.plot(*zip(*points), marker='o', label=run.name)
    for ax, title in zip(axes, ('box AP', 'mask AP')):
        ax.set_xlabel('epoch')
        ax.set_ylabel(f'{title} (%)')
        ax.set_title(f'validation {title}')
        ax.grid(alpha=0.3)
    if drawn:
        axes[0].legend(fontsize='small')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return drawn
