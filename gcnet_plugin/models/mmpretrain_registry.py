"""The blocks and backbones in MMPretrain's MODELS registry too.

An MMPretrain config (``default_scope='mmpretrain'``) builds its model from
:data:`mmpretrain.registry.MODELS`, which finds nothing of ours on its own:
this module registers there the classes already registered in
MMDetection's MODELS, the same class objects, not copies. So
``type='ContextBlock'`` builds :class:`ContextBlock` under the
``mmpretrain`` scope as under ``mmdet`` and none (mmengine's root registry,
where ours replaces mmcv's), and ``backbone=dict(type='PluginResNet')``
gives an ImageNet classifier the placements of the COCO configs (plugins
are built from mmdet's MODELS, :mod:`.backbones.plugin_resnet`).

Nothing is registered when MMPretrain is not installed (a detection-only
environment); an installed MMPretrain that fails to import raises.
"""
import importlib.util
from typing import List

from .backbones import PluginResNet, PluginResNeXt
from .layers import SE, ContextBlock, NonLocal, SimplifiedNonLocal

__all__ = ['MMPRETRAIN_CLASSES', 'register_in_mmpretrain']

# The classes mmdet's MODELS holds under these names.
MMPRETRAIN_CLASSES = (ContextBlock, SimplifiedNonLocal, SE, NonLocal,
                      PluginResNet, PluginResNeXt)


def register_in_mmpretrain() -> List[str]:
    """Register :data:`MMPRETRAIN_CLASSES` in mmpretrain's MODELS.

    Returns:
        list[str]: The names registered; empty when MMPretrain is not
        installed. Calling it again registers nothing new.
    """
    if importlib.util.find_spec('mmpretrain') is None:
        return []
    from mmpretrain.registry import MODELS
    for cls in MMPRETRAIN_CLASSES:
        if MODELS.module_dict.get(cls.__name__) is not cls:
            MODELS.register_module(module=cls)
    return [cls.__name__ for cls in MMPRETRAIN_CLASSES]


register_in_mmpretrain()
