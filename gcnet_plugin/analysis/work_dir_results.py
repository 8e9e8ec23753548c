"""Read what MMEngine 0.10.7 leaves in a work_dir: the one reader.

``tools/train.py`` and ``tools/test.py`` write under ``work_dir``
(default ``work_dirs/<config name>``) one ``<ts>`` folder per launch,
named ``YYYYmmdd_HHMMSS``::

    <work_dir>/<config name>.py          config dump (names the run)
    <work_dir>/<ts>/<ts>.log             text log
    <work_dir>/<ts>/vis_data/scalars.json
        JSON lines, appended (``LocalVisBackend.add_scalars``): training
        lines (``loss``, ``lr``, ..., ``"step"``: iteration) and, after
        each validation, the evaluator's metrics with ``"step"``: epoch,
        e.g. ``{"coco/bbox_mAP": 0.371, ..., "step": 12}``
    <work_dir>/<ts>/vis_data/<ts>.json   the same lines again
    <work_dir>/<ts>/<ts>.json            test runs only: ONE JSON object,
        not JSON lines (``LoggerHook.after_test_epoch`` writes it with
        ``mmengine.dump``, opened ``'w'``, no trailing newline): the final
        metrics, non-scalar ones included (``coco/bbox_mAP_copypaste``)

Metrics are the keys with a ``/`` (``<evaluator prefix>/<name>``) and a
number as value: ``coco/bbox_mAP`` (MMDetection), ``accuracy/top1``
(MMPretrain), ``acc/top1`` (MMAction2). COCO mAP and MMAction2's accuracy
are in ``[0, 1]``, MMPretrain's accuracy in percent; the paper prints
percent (:mod:`.paper_comparison` converts).
``tests/test_analysis/test_work_dir_results.py`` checks this layout
against a real MMEngine run.
"""
import glob
import json
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
SCALARS = osp.join('vis_data', 'scalars.json')


def read_scalars(path: str) -> List[dict]:
    """The JSON lines of a ``scalars.json``, in order.

    Raises:
        ValueError: A line is not JSON (the error names the line).
    """
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


def read_test_metrics(path: str) -> Dict[str, Any]:
    """The one JSON object of a test run's ``<ts>/<ts>.json``.

    Raises:
        ValueError: The file is not one JSON object.
    """
    with open(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not one JSON object ({e})') from e
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object, got '
                         f'{type(data).__name__}')
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metrics_of(row: Dict[str, Any]) -> Dict[str, float]:
    """The evaluator metrics of a logged row: numbers under ``a/b`` keys."""
    return {k: v for k, v in row.items() if '/' in k and _is_number(v)}


def train_points(rows: List[dict]) -> List[dict]:
    """The training lines (those with a ``loss``), in order."""
    return [r for r in rows if 'loss' in r]


def val_points(rows: List[dict]) -> List[Tuple[int, Dict[str, float]]]:
    """``(step, metrics)`` of the validation lines, in order."""
    out = []
    for row in rows:
        metrics = metrics_of(row)
        if metrics:
            out.append((int(row.get('step', len(out) + 1)), metrics))
    return out


def launches(work_dir: str) -> List[str]:
    """The ``<ts>`` folders of a work_dir, oldest first."""
    return sorted(
        osp.join(work_dir, d) for d in os.listdir(work_dir)
        if TIMESTAMP.match(d) and osp.isdir(osp.join(work_dir, d)))


def metrics_dump(ts_dir: str) -> str:
    """Where a test run of launch ``ts_dir`` leaves its metrics."""
    return osp.join(ts_dir, osp.basename(osp.normpath(ts_dir)) + '.json')


def find_train_scalars(src: str) -> str:
    """``src`` if a file, else the newest ``scalars.json`` of the work_dir
    ``src`` that holds training losses.

    Raises:
        FileNotFoundError: No launch of ``src`` logged a training loss.
    """
    if osp.isfile(src):
        return src
    if osp.isdir(src):
        for ts_dir in reversed(launches(src)):
            path = osp.join(ts_dir, SCALARS)
            if osp.isfile(path) and train_points(read_scalars(path)):
                return path
    raise FileNotFoundError(f'no <timestamp>/{SCALARS} with training '
                            f'losses under {src}; run tools/train.py first')


def find_test_metrics(src: str) -> str:
    """``src`` if a file, else the newest test metrics file of the
    work_dir ``src`` that holds metrics.

    Raises:
        FileNotFoundError: No launch of ``src`` was a test with metrics.
    """
    if osp.isfile(src):
        return src
    if osp.isdir(src):
        for ts_dir in reversed(launches(src)):
            path = metrics_dump(ts_dir)
            if osp.isfile(path) and metrics_of(read_test_metrics(path)):
                return path
    raise FileNotFoundError(f'no test metrics (<timestamp>/<timestamp>.json)'
                            f' under {src}; run tools/test.py first')


@dataclass
class RunResult:
    """Results of one work_dir.

    Attributes:
        work_dir (str): The run directory.
        name (str): Config name (stem of the config dump, else the folder).
        metrics (dict): Final metrics as logged, empty if none.
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
    """``coco/<key>`` if present, else the first ``<prefix>/<key>``."""
    if f'coco/{key}' in metrics:
        return metrics[f'coco/{key}']
    for name, value in metrics.items():
        if name == key or name.endswith(f'/{key}'):
            return value
    return None


def _run_name(work_dir: str) -> str:
    """The config dump's stem; the newest if configs were renamed
    between launches; the folder name without a dump."""
    dumps = [
        p for p in glob.glob(osp.join(work_dir, '*.py'))
        if osp.isfile(p) and not TIMESTAMP.match(osp.basename(p)[:-3])
    ]
    base = osp.basename(osp.normpath(work_dir))
    stems = [osp.basename(p)[:-3] for p in dumps]
    if base in stems or not stems:
        return base
    return osp.basename(max(dumps, key=osp.getmtime))[:-3]


def read_run(work_dir: str) -> RunResult:
    """Results of one work_dir (the parent of ``<ts>`` folders).

    The final metrics come from the newest launch that produced any: a
    ``tools/test.py`` result or the last validation of a training. The
    curve merges the validations of every launch (resumed trainings), a
    later launch winning for the same epoch.
    """
    result = RunResult(work_dir=work_dir, name=_run_name(work_dir))
    by_epoch: Dict[int, Dict[str, float]] = {}
    for ts_dir in launches(work_dir):
        stamp = osp.basename(ts_dir)
        scalars = osp.join(ts_dir, SCALARS)
        vals = val_points(read_scalars(scalars)) if osp.isfile(scalars) else []
        by_epoch.update(vals)
        test_file = metrics_dump(ts_dir)
        test = metrics_of(
            read_test_metrics(test_file)) if osp.isfile(test_file) else {}
        if test:
            result.metrics, result.source = test, f'test {stamp}'
        elif vals:
            epoch, metrics = vals[-1]
            result.metrics, result.source = metrics, f'val epoch {epoch}'
    result.curve = sorted(by_epoch.items())
    return result


def find_runs(root: str) -> List[RunResult]:
    """Every work_dir under ``root`` (``root`` itself included), sorted
    by path; runs that produced no metric are kept with empty
    ``metrics``.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'work_dirs folder not found: {root}')
    runs = []
    for dirpath, dirnames, _ in os.walk(root):
        if any(TIMESTAMP.match(d) for d in dirnames):
            runs.append(read_run(dirpath))
            # timestamp folders hold logs, not further runs
            dirnames[:] = [d for d in dirnames if not TIMESTAMP.match(d)]
    return sorted(runs, key=lambda r: r.work_dir)
