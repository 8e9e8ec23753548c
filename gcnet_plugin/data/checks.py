"""Up-front checks of a config's data, with errors a person can act on.

Without them a missing data root or a broken annotation file surfaces as a
stack trace from deep inside mmengine/mmdet (a ``FileNotFoundError`` in a
worker, a ``KeyError`` in ``pycocotools``, or "no training data" after all
images were filtered out). ``tools/train.py`` and ``tools/test.py`` call
:func:`check_data_cfg` before they build the Runner.

Only local paths are checked: a path with a URI scheme (``s3://``...) or a
dataset whose ``backend_args`` name a non-local backend is skipped.
"""
import json
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine.config import Config

# Annotation files larger than this are checked for existence and for
# starting like a JSON object only (COCO's train file is 450 MB: parsing it
# twice would add ~20 s to every start).
MAX_PARSE_BYTES = 64 * 2**20
QUICKSTART_HINT = ('Run `python tools/misc/make_quickstart_data.py` (or '
                   '`make demo`) to generate the quickstart data.')
COCO_HINT = ('Download COCO 2017 (train2017/, val2017/, annotations/) to '
             'data/coco/, or point `data_root` (and the evaluators\' '
             '`ann_file`) at your copy.')


class DataCheckError(ValueError):
    """A config's data is missing or malformed; the message says what."""


def _hint(path: str) -> str:
    return QUICKSTART_HINT if 'quickstart' in path else COCO_HINT


def _fail(where: str, path: str, problem: str) -> None:
    raise DataCheckError(f'{where}: {problem}: {path}\n  {_hint(path)}')


def _is_remote(path: str, backend_args: Optional[dict]) -> bool:
    if '://' in path:
        return True
    backend = (backend_args or {}).get('backend', 'local')
    return backend not in ('local', 'disk')


def _join(root: Optional[str], path: str) -> str:
    if root and not osp.isabs(path):
        return osp.join(root, path)
    return path


def _datasets(cfg: Any) -> Iterator[Dict]:
    """Yield the leaf dataset configs inside dataset wrappers."""
    if cfg is None:
        return
    if 'datasets' in cfg:  # ConcatDataset
        for sub in cfg['datasets']:
            yield from _datasets(sub)
    elif 'dataset' in cfg:  # RepeatDataset, ClassBalancedDataset, ...
        yield from _datasets(cfg['dataset'])
    else:
        yield cfg


def _check_bbox(bbox: Any) -> Optional[str]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return 'is not a list of 4 numbers [x, y, w, h]'
    if not all(isinstance(v, (int, float)) for v in bbox):
        return 'holds a value that is not a number'
    if bbox[2] < 0 or bbox[3] < 0:
        return 'has a negative width or height'
    return None


def check_coco_json(ann_file: str,
                    where: str = 'annotation file',
                    classes: Optional[Tuple[str, ...]] = None) -> None:
    """Check that a COCO-format annotation file is usable.

    Args:
        ann_file (str): Path of an ``instances_*.json`` file.
        where (str): What refers to it, for the message (e.g.
            ``'train_dataloader.dataset.ann_file'``).
        classes (tuple[str], optional): The config's ``metainfo.classes``;
            when given, at least one must be a category name of the file.

    Raises:
        DataCheckError: The file is missing, not JSON, lacks ``images``,
            ``annotations`` or ``categories``, or has an annotation with an
            unknown image or category id or a bad ``bbox``.
    """
    if not osp.isfile(ann_file):
        _fail(where, ann_file, 'annotation file not found')
    if osp.getsize(ann_file) > MAX_PARSE_BYTES:
        with open(ann_file, 'rb') as f:
            head = f.read(64).lstrip()
        if not head.startswith(b'{'):
            _fail(where, ann_file, 'annotation file is not a JSON object')
        return
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        _fail(where, ann_file, f'annotation file is not valid JSON ({e})')
    if not isinstance(data, dict):
        _fail(where, ann_file, 'annotation file is not a JSON object')
    missing = [
        k for k in ('images', 'annotations', 'categories')
        if not isinstance(data.get(k), list)
    ]
    if missing:
        _fail(
            where, ann_file,
            f'annotation file has no list {missing} (a COCO file needs '
            '"images", "annotations" and "categories")')
    try:
        image_ids = {img['id'] for img in data['images']}
        cat_ids = {cat['id'] for cat in data['categories']}
        cat_names = {cat.get('name') for cat in data['categories']}
    except (KeyError, TypeError):
        _fail(where, ann_file, 'an image or category entry has no "id"')
    for i, ann in enumerate(data['annotations']):
        ann_id = ann.get('id', f'#{i}') if isinstance(ann, dict) else f'#{i}'
        if not isinstance(ann, dict) or ann.get('image_id') not in image_ids:
            _fail(
                where, ann_file,
                f'annotation {ann_id} refers to an unknown image id '
                f'{ann.get("image_id") if isinstance(ann, dict) else None}')
        if ann.get('category_id') not in cat_ids:
            _fail(
                where, ann_file,
                f'annotation {ann_id} refers to an unknown category id '
                f'{ann.get("category_id")}')
        problem = _check_bbox(ann.get('bbox'))
        if problem:
            _fail(
                where, ann_file,
                f'annotation {ann_id} has a bad bbox {ann.get("bbox")!r}: '
                f'it {problem}')
    if classes and not set(classes) & cat_names:
        _fail(
            where, ann_file,
            f'none of the config\'s classes {tuple(classes)} is a '
            f'category of the annotation file {sorted(cat_names)}')


def _check_dataset(where: str, ds: Dict) -> List[str]:
    """Check one leaf dataset config; return the annotation files it uses."""
    root = ds.get('data_root')
    backend_args = ds.get('backend_args')
    if root and not _is_remote(root, backend_args) and not osp.isdir(root):
        _fail(f'{where}.data_root', root, 'data root not found')
    ann_file = ds.get('ann_file')
    checked = []
    if ann_file:
        path = _join(root, ann_file)
        if not _is_remote(path, backend_args):
            classes = (ds.get('metainfo') or {}).get('classes')
            check_coco_json(path, f'{where}.ann_file', classes)
            checked.append(osp.normpath(path))
    prefix = ds.get('data_prefix') or {}
    for key in ('img', 'img_path'):
        if prefix.get(key) is not None:
            img_dir = _join(root, prefix[key])
            if not _is_remote(img_dir, backend_args) and \
                    not osp.isdir(img_dir):
                _fail(f'{where}.data_prefix.{key}', img_dir,
                      'image folder not found')
    return checked


def check_data_cfg(cfg: Config) -> None:
    """Check the data a config's dataloaders and evaluators read.

    For each of ``train``/``val``/``test``: the dataloader's dataset (also
    inside ``RepeatDataset``/``ConcatDataset``-style wrappers) must have an
    existing ``data_root``, annotation file and image folder, and the
    annotation file must be valid COCO (see :func:`check_coco_json`); a
    ``CocoMetric``-style evaluator's ``ann_file`` is checked the same way.

    Args:
        cfg (Config): A full (base-merged) config.

    Raises:
        DataCheckError: With the config key, the path, the problem and
            what to do (generate the quickstart data, or download COCO).
    """
    seen = set()
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        for ds in _datasets(loader['dataset']):
            seen.update(_check_dataset(f'{split}_dataloader.dataset', ds))
        evaluators = cfg.get(f'{split}_evaluator')
        if split == 'train' or not evaluators:
            continue
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        for ev in evaluators:
            ann_file = ev.get('ann_file') if isinstance(ev, dict) else None
            if not ann_file or osp.normpath(ann_file) in seen or _is_remote(
                    ann_file, ev.get('backend_args')):
                continue
            check_coco_json(ann_file, f'{split}_evaluator.ann_file')
            seen.add(osp.normpath(ann_file))
