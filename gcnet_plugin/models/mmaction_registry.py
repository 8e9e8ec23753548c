"""Register the blocks and the slow-only backbone in MMAction2's MODELS.

The classes are the ones registered in MMDetection's MODELS (the same
objects, not copies), so ``type='ContextBlock'`` in a config with
``default_scope='mmaction'`` builds our block, as under ``'mmdet'``.
MMAction2 does not ship blocks of these names; mmcv's ``NonLocal2d`` stays
mmcv's in the root registry and under the other scopes, while the
``mmaction`` scope gets our drop-in ``NonLocal1d/2d/3d``.

Importing :mod:`gcnet_plugin` runs this module (through
:mod:`gcnet_plugin.models`); mmaction2's ``import mmaction.models`` needs
:mod:`gcnet_plugin.compat.mmaction_drn`, which :mod:`gcnet_plugin`
installs first.
"""
from mmaction.registry import MODELS

from .backbones.plugin_resnet3d_slowonly import PluginResNet3dSlowOnly
from .layers import (SE, ContextBlock, NonLocal, NonLocal1d, NonLocal2d,
                     NonLocal3d, SimplifiedNonLocal)

REGISTERED = (ContextBlock, SimplifiedNonLocal, SE, NonLocal, NonLocal1d,
              NonLocal2d, NonLocal3d, PluginResNet3dSlowOnly)

for _cls in REGISTERED:
    MODELS.register_module(module=_cls)
