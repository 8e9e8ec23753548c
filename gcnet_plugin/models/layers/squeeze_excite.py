"""Squeeze-and-excitation block as a preset of the GC framework.

Hu et al., Squeeze-and-Excitation Networks (CVPR 2018), seen as eq. (4) of
GCNet (https://arxiv.org/abs/1904.11492, section 4.2, Fig. 4(c), Table 2
(f) "avg+scale (SE)"). Reference code consulted: timm
``timm/layers/squeeze_excite.py``; the module is
:class:`~gcnet_plugin.models.layers.context_block.ContextBlock` with other
defaults, not a copy.
"""
from typing import Any

from mmdet.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS

from .context_block import ContextBlock


@ROOT_MODELS.register_module()
@MODELS.register_module()
class SE(ContextBlock):
    """SE block: z = x * sigmoid(W_2 ReLU(W_1 mean_j x_j)).

    Global average pooling (alpha_j = 1/P), conv-ReLU-conv bottleneck with
    R = int(C * ratio) channels and no LayerNorm, sigmoid, channel-wise
    scale. Parameters: ``channel_mul_conv.0`` (W_1) and
    ``channel_mul_conv.3`` (W_2). W_2 is zero-initialised (re-applied by
    ``init_weights()``), so the block starts as ``x * 0.5``.

    Args:
        in_channels (int): C, channels of the input map.
        **kwargs: Any other argument of :class:`ContextBlock`; the
            defaults are ``PRESET``: ``ratio=1/16``, ``pooling_type='avg'``,
            ``fusion_types=('channel_mul',)``, ``norm_cfg=None`` (and
            ContextBlock's ``act_cfg=dict(type='ReLU')``).

    Shape:
        x: [N, C, H, W] -> [N, C, H, W], or [N, C, T, H, W] (as GC)
    """

    _abbr_ = 'se_block'
    PRESET = dict(
        ratio=1 / 16,
        pooling_type='avg',
        fusion_types=('channel_mul', ),
        norm_cfg=None)

    def __init__(self, in_channels: int, **kwargs: Any) -> None:
        super().__init__(in_channels, **{**self.PRESET, **kwargs})
