"""Fixtures and parametrizations shared across the suite.

Fixtures:

- ``repo_root``: the repository's root folder (``Path``).
- ``load_config``: ``load_config('configs/...py')`` -> mmengine ``Config``,
  the path relative to the repository root (parsed once per session; each
  call returns a fresh copy, free to change).
- ``paper_index``: the entries of ``configs/paper_index.yml`` (list).
- ``quickstart_data``: a tiny dataset in the quickstart's COCO layout
  (``annotations/instances_{train,val}2017.json``, ``train2017/``,
  ``val2017/``), made once per session by
  :func:`gcnet_plugin.data.synthetic_coco.make_synthetic_coco`; see
  ``QUICKSTART_DATA`` for its size. Read-only: a test that changes files
  takes ``quickstart_data_copy``, its own copy.
- ``tiny_quickstart``: ``tiny_quickstart(folder, num_train, num_val, ...)``
  writes a generated dataset and the quickstart config trained on it (see
  ``TINY_QUICKSTART``) for tests that run ``tools/train.py``/``test.py``.

Parametrizations (``pytest_generate_tests``): a test that takes one of the
arguments of ``CONFIG_SETS`` runs once per config of that set, the path
relative to the repository root. ``@pytest.mark.slow_except(*paths)``
marks the cases of every other config slow.

Random weights for zero-initialised blocks are
:func:`gcnet_plugin.models.random_weights.randomize_weights_`.
"""
import copy
import functools
import shutil
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import yaml
from mmengine.config import Config

from gcnet_plugin.data.synthetic_coco import make_synthetic_coco

REPO_ROOT = Path(__file__).resolve().parent.parent
# make_synthetic_coco's arguments for ``quickstart_data``.
QUICKSTART_DATA = dict(num_train=3, num_val=2, image_size=(64, 64), seed=0)
QUICKSTART_CONFIG = ('configs/quickstart/'
                     'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO_ROOT


@functools.lru_cache(maxsize=None)
def _parse_config(path: str) -> Config:
    return Config.fromfile(str(REPO_ROOT / path))


@pytest.fixture(scope='session')
def load_config() -> Callable[[str], Config]:
    """A loader of configs named relative to the repository root."""

    def load(path: str) -> Config:
        return copy.deepcopy(_parse_config(str(path)))

    return load


def _read_paper_index() -> List[dict]:
    return yaml.safe_load((REPO_ROOT / 'configs/paper_index.yml').read_text())


@pytest.fixture(scope='session')
def paper_index() -> List[dict]:
    """The entries of configs/paper_index.yml, one per paper row."""
    return _read_paper_index()


@pytest.fixture(scope='session')
def quickstart_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny quickstart-format COCO dataset; do not change its files."""
    root = tmp_path_factory.mktemp('quickstart_data')
    make_synthetic_coco(str(root), **QUICKSTART_DATA)
    return root


@pytest.fixture
def quickstart_data_copy(quickstart_data: Path, tmp_path: Path) -> Path:
    """This test's own copy of ``quickstart_data``, free to change."""
    return Path(shutil.copytree(quickstart_data, tmp_path / 'quickstart'))


# The quickstart config on a generated dataset of square images, trained
# and tested at their size, batch 2, no dataloader workers, one epoch
# without validation, a checkpoint after it; ``{flip}`` is the train
# pipeline's RandomFlip line or nothing.
TINY_QUICKSTART = """_base_ = {base!r}
data_root = {data_root!r}
image_scale = {image_scale!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),{flip}
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1, val_begin=100)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""
FLIP = "\n    dict(type='RandomFlip', prob=0.5),"


@pytest.fixture(scope='session')
def tiny_quickstart(repo_root: Path) -> Callable[..., str]:
    """``tiny_quickstart(folder, num_train, num_val, image_size=(64, 64),
    flip=False, **changes)`` -> the path of ``folder/tiny.py``.

    Makes ``num_train``/``num_val`` generated ``image_size`` images in
    ``folder/data/`` (seed 0) and writes ``TINY_QUICKSTART`` on them
    (``flip``: random flips in training) as ``folder/tiny_base.py``;
    ``folder/tiny.py`` inherits it and sets ``changes`` (config keys),
    merged into it as in any child config.
    """

    def write(folder: Path,
              num_train: int,
              num_val: int,
              image_size: Tuple[int, int] = (64, 64),
              flip: bool = False,
              **changes) -> str:
        data_root = str(folder / 'data') + '/'
        make_synthetic_coco(
            data_root, num_train, num_val, image_size=image_size, seed=0)
        (folder / 'tiny_base.py').write_text(
            TINY_QUICKSTART.format(
                base=str(repo_root / QUICKSTART_CONFIG),
                data_root=data_root,
                image_scale=tuple(image_size),
                flip=FLIP if flip else ''))
        lines = ["_base_ = './tiny_base.py'"]
        lines += [f'{key} = {value!r}' for key, value in changes.items()]
        (folder / 'tiny.py').write_text('\n'.join(lines) + '\n')
        return str(folder / 'tiny.py')

    return write


def _relative(paths) -> List[str]:
    return sorted(str(p.relative_to(REPO_ROOT)) for p in paths)


def every_config() -> List[str]:
    """Every config under configs/ but ``_base_`` folders."""
    return _relative(
        p for p in (REPO_ROOT / 'configs').rglob('*.py')
        if '_base_' not in p.parts)


def detection_configs() -> List[str]:
    """Every MMDetection config: all but configs/imagenet/ (MMPretrain) and
    configs/kinetics/ (MMAction2)."""
    return [
        p for p in every_config()
        if Path(p).parts[1] not in ('imagenet', 'kinetics')
    ]


def paper_setting_configs() -> List[str]:
    """Configs at the paper's settings: configs/gcnet/ and the headline
    configs/gc_r50_r16.py (not the quickstart)."""
    return _relative([
        *(REPO_ROOT / 'configs/gcnet').glob('*.py'),
        REPO_ROOT / 'configs/gc_r50_r16.py'
    ])


def configs_with_paper_params() -> List[str]:
    """Configs of the paper_index.yml COCO rows (Tables 1-3) that print a
    #params."""
    return sorted({
        e['config']
        for e in _read_paper_index()
        if 'params_M' in e['paper'] and str(e['table'])[0] in '123'
    })


# Argument name -> the configs a test taking it runs over.
CONFIG_SETS: Dict[str, Callable[[], List[str]]] = dict(
    config_path=every_config,
    detection_config_path=detection_configs,
    paper_config_path=paper_setting_configs,
    params_config_path=configs_with_paper_params,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the arguments of ``CONFIG_SETS`` (see the docstring)."""
    for argname, configs in CONFIG_SETS.items():
        if argname not in metafunc.fixturenames:
            continue
        marker = metafunc.definition.get_closest_marker('slow_except')
        fast = None if marker is None else set(marker.args)
        paths = configs()
        if fast is not None and not fast <= set(paths):
            raise ValueError(f'slow_except names configs outside '
                             f'{argname}: {sorted(fast - set(paths))}')
        metafunc.parametrize(argname, [
            pytest.param(
                p,
                id=Path(p).stem,
                marks=() if fast is None or p in fast else pytest.mark.slow)
            for p in paths
        ])
