"""Read the evaluation results that MMEngine 0.10.7 leaves in a work_dir.

What ``tools/train.py`` / ``tools/test.py`` write under
``work_dir = work_dirs/<config name>`` (one ``<timestamp>`` folder per
launch, named ``YYYYmmdd_HHMMSS``)::

    work_dirs/<name>/<name>.py                 config dump (the run's name)
    work_dirs/<name>/<ts>/<ts>.log             text log
    work_dirs/<name>/<ts>/vis_data/scalars.json
        one JSON object per line: training lines (loss, lr, ..., "step":
        iteration) and, after each validation, the metrics with
        "step": epoch, e.g. {"coco/bbox_mAP": 0.371, ..., "step": 12}
    work_dirs/<name>/<ts>/<ts>.json            test only: one JSON object
        with the final metrics of ``tools/test.py``

MMEngine reports COCO mAP in ``[0, 1]``; the paper prints percent.
"""
import glob
import json
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')


@dataclass
class RunResult:
    """Results of one work_dir.

    Attributes:
        work_dir (str): The run directory.
        name (str): Config name (stem of the config dump, else the folder).
        metrics (dict): Final metrics (mAP in ``[0, 1]``), empty if none.
        source (str): Where ``metrics`` come from, e.g.
            ``'test 20240101_120000'`` or ``'val epoch 12'``.
        curve (list): ``(epoch, metrics)`` of every validation, by epoch.
    """
    work_dir: str
    name: str
    metrics: Dict[str, float] = field(default_factory=dict)
    source: str = ''
    curve: List[Tuple[int, Dict[str, float]]] = field(default_factory=list)

    def metric(self, key: str) -> Optional[float]:
        """``metric('bbox_mAP')``: ``coco/bbox_mAP`` or any
        ``<prefix>/bbox_mAP``."""
        return pick_metric(self.metrics, key)


def pick_metric(metrics: Dict[str, float], key: str) -> Optional[float]:
    if f'coco/{key}' in metrics:
        return metrics[f'coco/{key}']
    for name, value in metrics.items():
        if name == key or name.endswith(f'/{key}'):
            return value
    return None


def _is_metric(key: str) -> bool:
    return '/' in key and key.rsplit('/', 1)[1].endswith('mAP')


def _read_json_lines(path: str) -> List[dict]:
    rows = []
    with open(path) as f:
        for num, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{num}: not JSON ({e})') from e
    return rows


def _val_lines(ts_dir: str) -> List[Tuple[int, Dict[str, float]]]:
    path = osp.join(ts_dir, 'vis_data', 'scalars.json')
    if not osp.isfile(path):
        return []
    out = []
    for row in _read_json_lines(path):
        metrics = {k: v for k, v in row.items() if _is_metric(k)}
        if metrics:
            out.append((int(row.get('step', len(out) + 1)), metrics))
    return out


def _test_metrics(ts_dir: str) -> Dict[str, float]:
    path = osp.join(ts_dir, osp.basename(ts_dir) + '.json')
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        text = f.read().strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not JSON ({e})') from e
    return {k: v for k, v in data.items() if _is_metric(k)}


def _run_name(run_dir: str) -> str:
    dumps = [p for p in glob.glob(osp.join(run_dir, '*.py')) if osp.isfile(p)]
    base = osp.basename(osp.normpath(run_dir))
    stems = [osp.splitext(osp.basename(p))[0] for p in dumps]
    if base in stems or not stems:
        return base
    # several dumps (configs renamed between launches): the newest one
    newest = max(dumps, key=osp.getmtime)
    return osp.splitext(osp.basename(newest))[0]


def read_run(run_dir: str) -> RunResult:
    """Results of one run directory (the parent of ``<timestamp>``
    folders).

    The final metrics come from the newest launch that produced any: a
    ``tools/test.py`` result or the last validation of a training. The
    curve merges the validations of every launch (resumed trainings), a
    later launch winning for the same epoch.
    """
    stamps = sorted(
        d for d in os.listdir(run_dir)
        if TIMESTAMP.match(d) and osp.isdir(osp.join(run_dir, d)))
    result = RunResult(work_dir=run_dir, name=_run_name(run_dir))
    by_epoch: Dict[int, Dict[str, float]] = {}
    for stamp in stamps:
        ts_dir = osp.join(run_dir, stamp)
        vals = _val_lines(ts_dir)
        for epoch, metrics in vals:
            by_epoch[epoch] = metrics
        test = _test_metrics(ts_dir)
        if test:
            result.metrics, result.source = test, f'test {stamp}'
        elif vals:
            epoch, metrics = vals[-1]
            result.metrics, result.source = metrics, f'val epoch {epoch}'
    result.curve = sorted(by_epoch.items())
    return result


def find_runs(root: str) -> List[RunResult]:
    """Every run directory under ``root`` (``root`` itself included),
    sorted by path; runs that produced no metric are kept with empty
    ``metrics``."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'work_dirs folder not found: {root}')
    runs = []
    for dirpath, dirnames, _ in os.walk(root):
        if any(TIMESTAMP.match(d) for d in dirnames):
            runs.append(read_run(dirpath))
            # timestamp folders hold logs, not further runs
            dirnames[:] = [d for d in dirnames if not TIMESTAMP.match(d)]
    return sorted(runs, key=lambda r: r.work_dir)
