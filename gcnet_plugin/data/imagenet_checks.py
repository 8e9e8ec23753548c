"""Up-front checks of an mmpretrain classification dataset config.

mmpretrain's ``ImageNet``/``CustomDataset`` read either an annotation list
(``ann_file``: ``<image path> <label>`` per line, paths below the image
folder; ImageNet's ``split='train'`` finds ``meta/train.txt`` by itself)
or, without one, one sub-folder per class. Broken data surfaces late and
obscurely there: a missing folder as "Found 0 files", a label beyond the
head's classes as an index error inside the loss, a class-count mismatch
as a bare ``AssertionError``, a missing image in a dataloader worker
mid-epoch. :func:`check_classification_dataset` finds these before the
Runner is built and raises :class:`~.checks.DataCheckError` with the
config key, the path, the problem and the fix.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .checks import DataCheckError

__all__ = [
    'CLASSIFICATION_TYPES', 'check_ann_list', 'check_classification_dataset',
    'is_classification_dataset'
]

# mmpretrain's single-label datasets read from a list or class folders.
CLASSIFICATION_TYPES = ('ImageNet', 'ImageNet21k', 'CustomDataset')
# Annotation lists longer than this have a sample of their images checked
# (every k-th line), not all: ImageNet's train list has 1.28 M.
MAX_IMAGE_CHECKS = 20000

SHAPES_HINTS = dict(
    missing='Run `python tools/misc/make_imagenet_data.py` to generate the '
    'synthetic ImageNet-format data (data/imagenet-shapes/).',
    content='Delete data/imagenet-shapes/ and run `python '
    'tools/misc/make_imagenet_data.py` to generate it again.')
IMAGENET_HINTS = dict(
    missing='Put ImageNet-1k in data/imagenet/ as mmpretrain lays it out '
    '(train/<class>/*.JPEG, val/, meta/train.txt, meta/val.txt), or pass '
    '`--data-root DIR` to tools/train.py and tools/test.py to read your '
    'copy.',
    content='Each line of an annotation list is `<image path below the '
    'image folder> <label>` (a label is 0 .. number of classes - 1): fix '
    'the file, or point the config at the right one.')


def _fail(where: str, path: str, problem: str, kind: str = 'missing') -> None:
    hints = SHAPES_HINTS if 'imagenet-shapes' in path else IMAGENET_HINTS
    raise DataCheckError(f'{where}: {problem}: {path}\n  {hints[kind]}')


def _type_name(ds: Dict) -> str:
    kind = ds.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.rsplit('.', 1)[-1]


def is_classification_dataset(ds: Dict) -> bool:
    """Whether a dataset config is one of :data:`CLASSIFICATION_TYPES`
    (``mmpretrain.``-scoped or not, or a subclass of mmpretrain's
    ``CustomDataset`` registered under another name)."""
    name = _type_name(ds)
    if name in CLASSIFICATION_TYPES:
        return True
    kind = ds.get('type')
    if not isinstance(kind, type):
        return False
    try:
        from mmpretrain.datasets import CustomDataset
    except ImportError:
        return False
    return issubclass(kind, CustomDataset)


def _default_classes(ds: Dict) -> Optional[Sequence[str]]:
    """The dataset class's own classes (ImageNet's 1000), if any."""
    if _type_name(ds) == 'CustomDataset':
        return None
    try:
        from mmpretrain.registry import DATASETS
        kind = ds.get('type')
        cls = kind if isinstance(kind, type) else DATASETS.get(kind)
    except Exception:  # no mmpretrain, or a type registered elsewhere
        cls = None
    return (getattr(cls, 'METAINFO', None) or {}).get('classes')


def _paths(ds: Dict) -> Tuple[str, str, bool]:
    """``(annotation list or '', image folder, with_label)`` as the
    dataset resolves them."""
    root = ds.get('data_root') or ''
    prefix = ds.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', prefix.get('img', '')) or ''
    ann_file = ds.get('ann_file') or ''
    with_label = bool(ds.get('with_label', True))
    split = ds.get('split') or ''
    if split and _type_name(ds) in ('ImageNet', 'ImageNet21k'):
        prefix = prefix or split
        with_label = with_label and split != 'test'
        meta = osp.join('meta', f'{split}.txt')
        if not ann_file and osp.isfile(osp.join(root, meta)):
            ann_file = meta
    return _join(root, ann_file), _join(root, prefix) or root, with_label


def _join(root: str, path: str) -> str:
    return osp.join(root, path) if root and path and not osp.isabs(path) \
        else path


def check_ann_list(ann_file: str,
                   img_prefix: str,
                   where: str,
                   with_label: bool = True,
                   num_classes: Optional[int] = None) -> int:
    """Check an mmpretrain annotation list and the images it names.

    Args:
        ann_file (str): The list: ``<path> <label>`` per line (``<path>``
            alone without labels).
        img_prefix (str): The folder the paths are below.
        where (str): The config key, for the message.
        with_label (bool): Whether lines carry a label.
        num_classes (int, optional): Labels must be below it.

    Returns:
        int: The largest label (-1 without labels or lines).

    Raises:
        DataCheckError: The file is missing, empty or unreadable, a line
            has no integer label or one out of range, or a listed image
            does not exist.
    """
    if not osp.isfile(ann_file):
        _fail(where, ann_file, 'annotation list not found')
    try:
        with open(ann_file) as f:
            lines = [(n, s.strip()) for n, s in enumerate(f, 1) if s.strip()]
    except UnicodeDecodeError as e:
        _fail(where, ann_file, f'annotation list is not text ({e})', 'content')
    if not lines:
        _fail(where, ann_file, 'annotation list is empty', 'content')
    top = -1
    names = []
    for num, line in lines:
        if not with_label:
            names.append((num, line))
            continue
        name, _, label = line.rpartition(' ')
        if not name or not label.lstrip('-').isdigit():
            _fail(where, ann_file,
                  f'line {num} {line!r} is not "<image path> <label>"',
                  'content')
        value = int(label)
        if value < 0 or (num_classes is not None and value >= num_classes):
            _fail(
                where, ann_file,
                f'line {num} has label {value}, outside 0..{num_classes - 1}'
                f' ({num_classes} classes)' if num_classes else
                f'line {num} has a negative label {value}', 'content')
        top = max(top, value)
        names.append((num, name))
    if not osp.isdir(img_prefix):
        _fail(f'{where} (data_prefix)', img_prefix, 'image folder not found')
    step = max(1, len(names) // MAX_IMAGE_CHECKS)
    for num, name in names[::step]:
        path = osp.join(img_prefix, name)
        if not osp.isfile(path):
            _fail(where, ann_file,
                  f'line {num} names an image that does not exist ({path})')
    return top


def _check_folders(where: str, img_prefix: str, with_label: bool,
                   classes: Optional[Sequence[str]]) -> int:
    """Check the class-folder layout; return the number of classes."""
    if not osp.isdir(img_prefix):
        _fail(f'{where}.data_prefix', img_prefix, 'image folder not found')
    folders = sorted(e.name for e in os.scandir(img_prefix) if e.is_dir())
    if not with_label:
        return 0
    if not folders:
        _fail(
            f'{where}.data_prefix', img_prefix,
            'no class folders (without an ann_file, each class is a '
            'sub-folder of images)', 'content')
    if classes is not None and len(classes) != len(folders):
        _fail(
            f'{where}.data_prefix', img_prefix,
            f'{len(folders)} class folders but the dataset has '
            f'{len(classes)} classes; set metainfo.classes to the '
            f'{len(folders)} folder names or point it at the right folder',
            'content')
    if not any(files for _, _, files in os.walk(img_prefix)):
        _fail(f'{where}.data_prefix', img_prefix,
              'the class folders hold no files', 'content')
    return len(folders)


def check_classification_dataset(where: str,
                                 ds: Dict,
                                 num_classes: Optional[int] = None) -> None:
    """Check one mmpretrain classification dataset config.

    Args:
        where (str): Its config key, e.g. ``'train_dataloader.dataset'``.
        ds (dict): The dataset config (``ImageNet``, ``CustomDataset``...).
        num_classes (int, optional): The model head's ``num_classes``:
            labels must be below it.

    Raises:
        DataCheckError: The data root, list or image folder is missing, a
            list line is malformed, a label is out of range, a listed image
            is missing, or the class folders do not match the classes.
    """
    root = ds.get('data_root')
    if root and '://' not in root and not osp.isdir(root):
        _fail(f'{where}.data_root', root, 'data root not found')
    ann_file, img_prefix, with_label = _paths(ds)
    if '://' in ann_file + img_prefix:
        return
    classes = (ds.get('metainfo') or {}).get('classes') or \
        _default_classes(ds)
    limits: List[int] = [
        n for n in (num_classes, len(classes) if classes else None)
        if n is not None
    ]
    limit = min(limits) if limits else None
    if ann_file:
        check_ann_list(ann_file, img_prefix, f'{where}.ann_file', with_label,
                       limit)
        return
    found = _check_folders(where, img_prefix, with_label, classes)
    if with_label and num_classes is not None and found > num_classes:
        _fail(
            f'{where}.data_prefix', img_prefix,
            f'{found} class folders but model.head.num_classes is '
            f'{num_classes}; set it to {found}', 'content')
