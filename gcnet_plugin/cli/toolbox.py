"""Which OpenMMLab toolbox a config belongs to, and what differs by it.

``tools/train.py`` and ``tools/test.py`` serve MMDetection (COCO),
MMPretrain (ImageNet) and MMAction2 (Kinetics) configs. The config's
``default_scope`` decides (``'mmdet'`` when it has none, as MMDetection's
tools assume), as it decides where mmengine looks up the config's
``type`` names. What the tools do differently by toolbox is here:

- the registries ``--cfg-options`` keys are checked against and the
  ``runner_type`` is built from (:func:`scope_registries`);
- MMPretrain's tools give every dataloader without a ``collate_fn``
  ``default_collate`` (its configs are written for a batch stacked by the
  dataloader; :func:`apply_toolbox_defaults`);
- ``tools/test.py``'s ``--show-dir``, ``--tta`` and ``--out`` (see
  :mod:`.evaluation`).
"""
import importlib
from types import ModuleType
from typing import List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.registry import Registry

__all__ = [
    'DEFAULT_SCOPE', 'TOOLBOXES', 'apply_toolbox_defaults', 'scope_registries',
    'scope_registry_module', 'toolbox_of'
]

DEFAULT_SCOPE = 'mmdet'
# default_scope -> the toolbox's name, for messages.
TOOLBOXES = dict(
    mmdet='MMDetection', mmpretrain='MMPretrain', mmaction='MMAction2')
_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def toolbox_of(cfg: Config) -> str:
    """The config's ``default_scope`` (``'mmdet'`` without one)."""
    scope = cfg.get('default_scope')
    return scope if isinstance(scope, str) and scope else DEFAULT_SCOPE


def scope_registry_module(scope: str) -> Optional[ModuleType]:
    """``<scope>.registry`` (e.g. ``mmpretrain.registry``), or None when
    the scope has no importable registry module."""
    try:
        return importlib.import_module(f'{scope}.registry')
    except ImportError:
        return None


def scope_registries(scope: str) -> List[Registry]:
    """The registries of ``scope``'s toolbox (mmengine's root registries
    when it has none)."""
    module = scope_registry_module(scope)
    if module is None:
        module = importlib.import_module('mmengine.registry')
    return [
        value for value in vars(module).values()
        if isinstance(value, Registry)
    ]


def apply_toolbox_defaults(cfg: Config) -> None:
    """What the toolbox's own tools add to a config, in place.

    MMPretrain: dataloaders without a ``collate_fn`` get
    ``default_collate``. MMDetection and MMAction2 add nothing.

    Args:
        cfg (Config): A full config.
    """
    if toolbox_of(cfg) != 'mmpretrain':
        return
    for key in _DATALOADERS:
        loader = cfg.get(key)
        if isinstance(loader, dict) and 'collate_fn' not in loader:
            loader['collate_fn'] = ConfigDict(type='default_collate')
