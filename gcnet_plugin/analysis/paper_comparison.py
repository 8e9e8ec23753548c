"""Put trained results next to the paper's tables: the results table.

``configs/paper_index.yml`` lists one entry per paper row::

    - table: 2a            # 1, 2a..2f, 3a, 3b (COCO), 4a, 4b, 5
      row: +all GC         # the row label as printed in the paper
      config: configs/...py
      paper: {bbox_mAP: 39.4, segm_mAP: 35.7, params_M: 46.9,
              flops_G: 279.6}

The paper's tables fall in three :data:`SECTIONS` by dataset, each with
its two accuracy figures: COCO (Tables 1-3: box and mask AP), ImageNet
(Table 4: top-1 and top-5 accuracy) and Kinetics (Table 5: top-1 and
top-5). A run matches an entry when its config name (the config file
stem, which ``tools/train.py`` uses for ``work_dirs/<name>`` and the
config dump) is the stem of ``config``. Everything is compared in percent,
the paper's unit: MMEngine's COCO mAP and MMAction2's ``acc/top1`` in
``[0, 1]`` are multiplied by 100, MMPretrain's ``accuracy/top1`` is a
percentage already.

:func:`results_table` writes the README's configs tables (one per section,
one line per entry: the paper's figures, measured params/FLOPs,
reproduced figures from the work_dirs, empty where there is no run);
:func:`write_csv` keeps every number, differences and the run each came
from included.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .csv_rows import write_rows_csv
from .work_dir_results import RunResult, pick_metric

NOT_RUN = 'not run'
# params/FLOPs of every paper config, measured by get_flops.py
# (docs/flops.md) and shipped: COCO at 1280x800, ImageNet at 224x224,
# Kinetics for one clip of 8 frames at 224x224 (paths relative to the
# repository root).
SHIPPED_COMPLEXITY = ('docs/complexity_1280x800.json',
                      'docs/complexity_224x224.json',
                      'docs/complexity_8x224x224.json')


@dataclass(frozen=True)
class Metric:
    """One accuracy figure of the paper and where a run logs it.

    Attributes:
        key (str): Its key under ``paper:`` in the index.
        short (str): The prefix of its columns in :func:`build_report`.
        label (str): Its name in the Markdown header.
        sources (tuple): ``(metric name, factor to percent)`` to try in a
            run's metrics, in order; a bare name matches any
            ``<prefix>/<name>``.
    """
    key: str
    short: str
    label: str
    sources: Tuple[Tuple[str, float], ...]

    def of(self, run: RunResult) -> Optional[float]:
        """The run's value in percent, one decimal more than the paper's
        figures have (None if it logged none)."""
        for name, factor in self.sources:
            value = run.metrics.get(name) if '/' in name else pick_metric(
                run.metrics, name)
            if value is not None:
                return round(factor * value, 2)
        return None


BOX = Metric('bbox_mAP', 'box', 'box AP', (('bbox_mAP', 100.), ))
MASK = Metric('segm_mAP', 'mask', 'mask AP', (('segm_mAP', 100.), ))
# MMPretrain's Accuracy logs percent, MMAction2's AccMetric a fraction.
TOP1 = Metric('top1', 'top1', 'top-1',
              (('accuracy/top1', 1.), ('acc/top1', 100.)))
TOP5 = Metric('top5', 'top5', 'top-5',
              (('accuracy/top5', 1.), ('acc/top5', 100.)))
METRICS = (BOX, MASK, TOP1, TOP5)
PAPER_KEYS = tuple(m.key for m in METRICS) + ('params_M', 'flops_G')


@dataclass(frozen=True)
class Section:
    """The paper tables of one dataset: what they measure and how
    precisely the paper prints it."""
    name: str
    tables: Tuple[str, ...]  # the leading number of its table ids
    metrics: Tuple[Metric, Metric]
    decimals: int  # of every number in its Markdown table
    reproduced: str  # the header of the reproduced column


SECTIONS = (
    Section('COCO', ('1', '2', '3'), (BOX, MASK), 1, 'box / mask AP'),
    Section('ImageNet', ('4', ), (TOP1, TOP5), 2, 'top-1 / top-5'),
    Section('Kinetics', ('5', ), (TOP1, TOP5), 2, 'top-1 / top-5'),
)


def section_of(table: str) -> Section:
    """The section of a table id (``'2a'`` -> COCO, ``'4b'`` -> ImageNet).

    Raises:
        ValueError: The id starts with no known table number.
    """
    for section in SECTIONS:
        if str(table)[:1] in section.tables:
            return section
    raise ValueError(f'table {str(table)!r} is none of the paper\'s tables '
                     '(1, 2a-2f, 3a, 3b, 4a, 4b, 5)')


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
        try:
            section = section_of(entry['table'])
        except ValueError as e:
            raise ValueError(f'{where}: {e}') from None
        keys = [m.key for m in section.metrics] + ['params_M', 'flops_G']
        unknown = sorted(set(paper) - set(keys))
        if unknown:
            raise ValueError(f'{where}: unknown paper keys {unknown} for '
                             f'a {section.name} table; expected some of '
                             f'{keys}')
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


def read_complexity(paths: Sequence[str]) -> Dict[str, dict]:
    """Merge the ``{config: {"params_M": .., "flops_G": ..}}`` files of
    ``paths`` that exist (a later file wins for the same config)."""
    import json
    complexity: Dict[str, dict] = {}
    for path in paths:
        if osp.isfile(path):
            with open(path) as f:
                complexity.update(json.load(f))
    return complexity


def _best_run(runs: Sequence[RunResult]) -> Optional[RunResult]:
    """Among runs of one config, one with metrics (the last in path
    order), else the last."""
    with_metrics = [r for r in runs if r.metrics]
    pool = with_metrics or list(runs)
    return pool[-1] if pool else None


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
        list[dict]: Keys ``section, table, row, config``, then
        ``<short>_paper, <short>_ours, <short>_diff`` for each of
        :data:`METRICS` (``box``, ``mask``, ``top1``, ``top5``; in
        percent, None where missing or not of the row's section), then
        ``params_paper, params_ours, flops_paper, flops_ours, status,
        work_dir``.
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
        section = section_of(entry.table)
        row = dict(
            section=section.name,
            table=entry.table,
            row=entry.row,
            config=entry.config,
            params_paper=entry.paper.get('params_M'),
            params_ours=ours.get('params_M'),
            flops_paper=entry.paper.get('flops_G'),
            flops_ours=ours.get('flops_G'),
            status=NOT_RUN,
            work_dir=None)
        for metric in METRICS:
            paper = entry.paper.get(metric.key)
            ours = metric.of(run) if run and metric in section.metrics \
                else None
            row[f'{metric.short}_paper'] = paper
            row[f'{metric.short}_ours'] = ours
            row[f'{metric.short}_diff'] = (None if paper is None
                                           or ours is None else round(
                                               ours - paper, 2))
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


def table_header(section: Section) -> str:
    """The Markdown header of a section's table."""
    first, second = (m.label for m in section.metrics)
    return (f'| table | row | config | paper {first} | paper {second} '
            f'| params (M) | FLOPs (G) | reproduced {section.reproduced} |')


TABLE_HEADER = table_header(SECTIONS[0])


def _num(value: Optional[float], decimals: int) -> str:
    return '' if value is None else f'{value:.{decimals}f}'


def _section_table(section: Section, rows: Sequence[dict]) -> str:
    header = table_header(section)
    lines = [header, '|' + '---|' * (header.count('|') - 1)]
    digits = section.decimals
    for row in rows:
        config = row['config']
        first, second = (row[f'{m.short}_ours'] for m in section.metrics)
        reproduced = '' if first is None and second is None else (
            f'{_num(first, digits) or "-"} / {_num(second, digits) or "-"}')
        cells = [
            row['table'], row['row'], f'[{osp.basename(config)}]({config})',
            *(_num(row[f'{m.short}_paper'], digits) for m in section.metrics),
            _num(row['params_ours'], digits),
            _num(row['flops_ours'], digits), reproduced
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def section_tables(rows: Sequence[dict]) -> List[Tuple[str, str]]:
    """``(section name, Markdown table)`` for each section with rows, in
    :data:`SECTIONS` order (see :func:`results_table`)."""
    return [(section.name,
             _section_table(section,
                            [r for r in rows if r['section'] == section.name]))
            for section in SECTIONS
            if any(r['section'] == section.name for r in rows)]


def results_table(rows: Sequence[dict]) -> str:
    """The README's configs tables, one per section, one line per row of
    :func:`build_report`, separated by an empty line.

    Columns: :func:`table_header` (the section's two figures). The config
    links to its file (paths in the index are relative to the repository
    root, like the README); every number has the paper's decimals for its
    section (COCO one, ImageNet and Kinetics two); a cell with nothing to
    show is empty (no run, no metrics yet, not measured).
    """
    return '\n'.join(table for _, table in section_tables(rows))


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
    keys = ['section', 'table', 'row', 'config']
    keys += [
        f'{m.short}_{k}' for m in METRICS for k in ('paper', 'ours', 'diff')
    ]
    keys += [
        'params_paper', 'params_ours', 'flops_paper', 'flops_ours', 'status',
        'work_dir'
    ]
    write_rows_csv(path, rows, keys)
