"""A 1x1 convolution computed as a matrix product.

oneDNN's CPU convolution has a large fixed cost, and a 1x1 conv with one or
a few output channels (a mask head's ``conv_logits``) spends most of its
backward in it (docs/quickstart.md has the measurement). ``F.linear`` over
the channels of every pixel gives the same values with the same
parameters, so checkpoints are interchangeable with ``nn.Conv2d``'s.
Registered for mmcv's ``build_conv_layer`` as ``type='PointwiseConv'``
(e.g. ``mask_head=dict(predictor_cfg=dict(type='PointwiseConv'))``).
"""
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

__all__ = ['PointwiseConv']


@MODELS.register_module('PointwiseConv')
class PointwiseConv(nn.Conv2d):
    """``nn.Conv2d(in_channels, out_channels, 1)`` as a matrix product.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int): Must be 1 (mmcv passes it). Default: 1.
        bias (bool): Default: True.

    Shape:
        x: [N, C_in, H, W] -> [N, C_out, H, W] (channels_last strides)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 bias: bool = True) -> None:
        if kernel_size not in (1, (1, 1)):
            raise ValueError('PointwiseConv is a 1x1 convolution, got '
                             f'kernel_size={kernel_size!r}; use Conv2d')
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        # [N, H, W, C_in] @ [C_in, C_out] -> [N, H, W, C_out]
        out = F.linear(
            x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias)
        # -> [N, C_out, H, W]
        return out.permute(0, 3, 1, 2)
