"""Global-context family blocks: GC, simplified NL, SE, non-local.

Importing this package registers ``ContextBlock``, ``SimplifiedNonLocal``,
``SE`` and ``NonLocal`` in MMDetection's MODELS registry and in mmengine's
root MODELS registry, where our ``ContextBlock`` replaces mmcv's (so a
config's ``type='ContextBlock'`` builds ours under any default scope).
``NonLocal1d/2d/3d`` (drop-ins for mmcv's classes of those names) are
presets of ``NonLocal`` and not registered, so mmcv's ``NonLocal2d`` keeps
its registry name; a config spells them ``type='NonLocal', dimension=3``.
``PointwiseConv`` (a 1x1 conv as a matrix product) is registered for
mmcv's ``build_conv_layer``.
"""
from .attention_pool import AttentionPool
from .average_pool import AveragePool
from .channel_scale import ChannelScale
from .context_block import ContextBlock, SimplifiedNonLocal
from .non_local import NonLocal
from .non_local_nd import NonLocal1d, NonLocal2d, NonLocal3d
from .pointwise_conv import PointwiseConv
from .squeeze_excite import SE

__all__ = [
    'AttentionPool', 'AveragePool', 'ChannelScale', 'ContextBlock', 'NonLocal',
    'NonLocal1d', 'NonLocal2d', 'NonLocal3d', 'PointwiseConv', 'SE',
    'SimplifiedNonLocal'
]
