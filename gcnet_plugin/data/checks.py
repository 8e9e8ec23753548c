"""Up-front checks of a config's data, with errors a person can act on.

Without them a missing data root or a broken annotation file surfaces as a
stack trace from deep inside mmengine/mmdet (a ``FileNotFoundError`` in a
worker, a ``KeyError`` in ``pycocotools``, or "no training data" after all
images were filtered out). ``tools/train.py`` and ``tools/test.py`` call
:func:`check_data_cfg` before they build the Runner. It checks COCO data
here and hands mmpretrain's classification datasets to
:mod:`.imagenet_checks` and MMAction2's raw-frame videos to
:mod:`.rawframe_checks`.

Only local paths are checked: a path with a URI scheme (``s3://``...) or a
dataset whose ``backend_args`` name a non-local backend is skipped.
"""
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from .dataset_cfgs import SPLITS, split_datasets, split_evaluators

# Annotation files larger than this are checked for existence and for
# starting like a JSON object only: parsing COCO's train file here, and
# again in the dataset, would slow every start down.
MAX_PARSE_BYTES = 64 * 2**20

CLASSES_HINT = ('Set the dataset\'s metainfo.classes to category names '
                'of this file, or point the config at the file that has '
                'your classes.')
# What to do, by the kind of problem. "missing": the data is not where the
# config looks; "corrupt": the file is there but unreadable; "content": it
# reads but is not a usable COCO file.
QUICKSTART_HINTS = dict(
    missing='Run `python tools/misc/make_quickstart_data.py` (or `make '
    'demo`) to generate the quickstart data.',
    corrupt='Delete data/quickstart/ and run `python '
    'tools/misc/make_quickstart_data.py` to generate it again.',
    content='Delete data/quickstart/ and run `python '
    'tools/misc/make_quickstart_data.py` to generate it again.',
    classes=CLASSES_HINT)
COCO_HINTS = dict(
    missing='Download COCO 2017 (train2017/, val2017/, annotations/) to '
    'data/coco/, or pass `--data-root DIR` to tools/train.py and '
    'tools/test.py to read your copy (it sets every dataloader\'s '
    'data_root and the evaluators\' ann_file). In a config, redefine '
    'train/val/test_dataloader.dataset.data_root and val/test_evaluator.'
    'ann_file: a child config that sets only `data_root` changes nothing.',
    corrupt='The file is truncated or was edited by hand: unpack '
    'annotations_trainval2017.zip again (or restore your copy).',
    content='The config must name a COCO instances file (images, '
    'annotations and categories with matching ids): fix or replace it.',
    classes=CLASSES_HINT)


class DataCheckError(ValueError):
    """A config's data is missing or malformed; the message says what."""


def _hint(path: str, kind: str) -> str:
    hints = QUICKSTART_HINTS if 'quickstart' in path else COCO_HINTS
    return hints[kind]


def _fail(where: str, path: str, problem: str, kind: str = 'missing') -> None:
    raise DataCheckError(f'{where}: {problem}: {path}\n  {_hint(path, kind)}')


def _is_remote(path: str, backend_args: Optional[dict]) -> bool:
    if '://' in path:
        return True
    backend = (backend_args or {}).get('backend', 'local')
    return backend not in ('local', 'disk')


def _join(root: Optional[str], path: str) -> str:
    if root and not osp.isabs(path):
        return osp.join(root, path)
    return path


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
        classes (tuple[str], optional): The dataset's classes (the
            config's ``metainfo.classes`` or its dataset class's);
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
            _fail(where, ann_file, 'annotation file is not a JSON object',
                  'corrupt')
        return
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        _fail(where, ann_file, f'annotation file is not valid JSON ({e})',
              'corrupt')
    if not isinstance(data, dict):
        _fail(where, ann_file, 'annotation file is not a JSON object',
              'content')
    missing = [
        k for k in ('images', 'annotations', 'categories')
        if not isinstance(data.get(k), list)
    ]
    if missing:
        _fail(
            where, ann_file,
            f'annotation file has no list {missing} (a COCO file needs '
            '"images", "annotations" and "categories")', 'content')
    try:
        image_ids = {img['id'] for img in data['images']}
        cat_ids = {cat['id'] for cat in data['categories']}
        cat_names = {cat.get('name') for cat in data['categories']}
    except (KeyError, TypeError):
        _fail(where, ann_file, 'an image or category entry has no "id"',
              'content')
    for i, ann in enumerate(data['annotations']):
        ann_id = ann.get('id', f'#{i}') if isinstance(ann, dict) else f'#{i}'
        if not isinstance(ann, dict) or ann.get('image_id') not in image_ids:
            _fail(
                where, ann_file,
                f'annotation {ann_id} refers to an unknown image id '
                f'{ann.get("image_id") if isinstance(ann, dict) else None}',
                'content')
        if ann.get('category_id') not in cat_ids:
            _fail(
                where, ann_file,
                f'annotation {ann_id} refers to an unknown category id '
                f'{ann.get("category_id")}', 'content')
        problem = _check_bbox(ann.get('bbox'))
        if problem:
            _fail(
                where, ann_file,
                f'annotation {ann_id} has a bad bbox {ann.get("bbox")!r}: '
                f'it {problem}', 'content')
    if classes and not set(classes) & cat_names:
        _fail(
            where, ann_file,
            f'none of the dataset\'s classes {_few(classes)} is a '
            f'category of the annotation file {_few(sorted(cat_names))}',
            'classes')


def _few(names: Sequence[Any], n: int = 6) -> str:
    """``(a, b, ...)``: the first ``n`` names and how many in all."""
    names = list(names)
    if len(names) <= n:
        return str(tuple(names))
    return str(tuple(names[:n]))[:-1] + f', ... ({len(names)} in all))'


def _dataset_classes(ds: Dict, class_default: bool) -> Optional[Sequence[str]]:
    """The config's ``metainfo.classes``, else (``class_default``) its
    dataset class's."""
    classes = (ds.get('metainfo') or {}).get('classes')
    if classes or not class_default or not isinstance(ds.get('type'), str):
        return classes
    try:
        from mmdet.registry import DATASETS
        cls = DATASETS.get(ds['type'])
    except Exception:  # no mmdet, or a type registered elsewhere
        cls = None
    return (getattr(cls, 'METAINFO', None) or {}).get('classes')


def _check_dataset(where: str, ds: Dict, class_default: bool) -> List[str]:
    """Check one leaf dataset config; return the annotation files it uses.

    ``class_default``: without ``metainfo.classes``, check the dataset
    class's own (training, where images without one of them are dropped).
    """
    root = ds.get('data_root')
    backend_args = ds.get('backend_args')
    if root and not _is_remote(root, backend_args) and not osp.isdir(root):
        _fail(f'{where}.data_root', root, 'data root not found')
    ann_file = ds.get('ann_file')
    checked = []
    if ann_file:
        path = _join(root, ann_file)
        if not _is_remote(path, backend_args):
            check_coco_json(path, f'{where}.ann_file',
                            _dataset_classes(ds, class_default))
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

    An mmpretrain classification dataset (``ImageNet``,
    ``CustomDataset``) is checked by
    :func:`~.imagenet_checks.check_classification_dataset` (its labels
    against ``model.head.num_classes`` too), an MMAction2
    ``RawframeDataset`` by
    :func:`~.rawframe_checks.check_rawframe_dataset`. Any other (COCO):
    for each of ``train``/``val``/``test``: the dataloader's dataset (also
    inside ``RepeatDataset``/``ConcatDataset``-style wrappers) must have an
    existing ``data_root``, annotation file and image folder, and the
    annotation file must be valid COCO (see :func:`check_coco_json`) and
    name one of the dataset's classes (a training dataset without
    ``metainfo.classes`` has its dataset class's, e.g. COCO's 80: the
    other images would all be dropped); a ``CocoMetric``-style
    evaluator's ``ann_file`` is checked the same way.

    Args:
        cfg (Config): A full (base-merged) config.

    Raises:
        DataCheckError: With the config key, the path, the problem and
            what to do (generate the synthetic data, or download the
            real data set).
    """
    try:
        _check_splits(cfg)
    except DataCheckError as exc:
        note = ignored_data_root(cfg)
        if note is None:
            raise
        raise DataCheckError(f'{exc}\n  {note}') from None


def _head_classes(cfg: Config) -> Optional[int]:
    """A classifier's ``model.head.num_classes`` (None if not an int)."""
    model = cfg.get('model')
    head = model.get('head') if isinstance(model, dict) else None
    value = head.get('num_classes') if isinstance(head, dict) else None
    return value if isinstance(value, int) else None


def _type_name(ds: Dict) -> str:
    kind = ds.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.rsplit('.', 1)[-1]


def _check_rawframes(where: str, ds: Dict) -> None:
    """An MMAction2 ``RawframeDataset``: its list and frames."""
    from .rawframe_checks import check_rawframe_dataset
    root = ds.get('data_root')
    prefix = ds.get('data_prefix') or {}
    frames = prefix.get('img', '') if isinstance(prefix, dict) else prefix
    ann_file = _join(root, ds.get('ann_file') or '')
    frames = _join(root, frames or '') or root or ''
    if _is_remote(ann_file + frames, ds.get('backend_args')):
        return
    keys = ('filename_tmpl', 'start_index', 'with_offset', 'multi_class',
            'num_classes', 'modality')
    check_rawframe_dataset(
        ann_file,
        frames,
        where,
        data_root=root or None,
        **{k: ds[k]
           for k in keys if k in ds})


def _check_splits(cfg: Config) -> None:
    # Imported here: imagenet_checks imports this module's DataCheckError.
    from .imagenet_checks import (check_classification_dataset,
                                  is_classification_dataset)
    seen = set()
    for split in SPLITS:
        for where, ds in split_datasets(cfg, split):
            if is_classification_dataset(ds):
                check_classification_dataset(where, ds, _head_classes(cfg))
            elif _type_name(ds) == 'RawframeDataset':
                _check_rawframes(where, ds)
            else:
                seen.update(_check_dataset(where, ds, split == 'train'))
        for where, ev in split_evaluators(cfg, split):
            ann_file = ev.get('ann_file')
            if not ann_file or osp.normpath(ann_file) in seen or _is_remote(
                    ann_file, ev.get('backend_args')):
                continue
            check_coco_json(ann_file, f'{where}.ann_file')
            seen.add(osp.normpath(ann_file))


def ignored_data_root(cfg: Config) -> Optional[str]:
    """Name the trap of a top-level ``data_root`` the dataloaders ignore.

    A child config that sets only ``data_root`` leaves the dataloaders at
    the base config's path (mmengine resolved them when it read the base
    file).

    Args:
        cfg (Config): A full config.

    Returns:
        str | None: What happened and the fix, or None when every dataset
        reads the top-level ``data_root`` (or there is none).
    """
    top = cfg.get('data_root')
    if not isinstance(top, str):
        return None
    for split in SPLITS:
        for where, ds in split_datasets(cfg, split):
            root = ds.get('data_root')
            if root and osp.normpath(root) != osp.normpath(top):
                return (f'The config sets data_root = {top!r} but '
                        f'{where}.data_root is {root!r}: mmengine filled the '
                        'dataloaders in when it read the base config, before '
                        f'the change. Pass --data-root {top} instead.')
    return None
