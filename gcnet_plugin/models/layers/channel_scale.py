"""Channel-wise scaling ``x * s`` whose backward reads each map once.

The "scale" fusion of GCNet's eq. (4) (Table 2 (f), SE). Plain autograd
computes dL/ds as ``(g * x).sum(H, W)``, which writes a full product map
and reads it again; here it is a batched dot product of g and x per
channel (one read of each), next to dL/dx = g * s.

Shape shorthand: N batch, C channels, H x W map, P = H * W positions.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

# Below this many positions N * C dot products of length P are too short
# for a batched GEMM to pay: the product map and its sum is faster there
# (c5 of an 800 px image is below, c3 and c4 are above;
# docs/benchmarks.md, "Memory traffic").
MIN_BMM_POSITIONS = 2048


def channel_dot(g: Tensor, x: Tensor) -> Tensor:
    """sum over H, W of ``g * x``, per sample and channel.

    Shape:
        g, x: [N, C, H, W] -> [N, C, 1, 1]
    """
    n, c, h, w = x.shape
    if (h * w >= MIN_BMM_POSITIONS and g.dtype == x.dtype
            and g.is_contiguous() and x.is_contiguous()):
        # [N * C, 1, P] @ [N * C, P, 1] -> [N * C, 1, 1]: reads each once
        dot = torch.bmm(g.view(n * c, 1, h * w), x.view(n * c, h * w, 1))
        return dot.view(n, c, 1, 1)
    # short rows, channels_last or mixed dtypes: product map, then its sum
    return (g * x).sum(dim=(2, 3), keepdim=True)


class ChannelScale(torch.autograd.Function):
    """``(x, s) -> x * s`` with s broadcast over the positions.

    Args (of ``apply``):
        x (Tensor): Feature map, NCHW or channels_last.
        s (Tensor): One scale per sample and channel.

    Returns:
        Tensor: ``x * s`` (type promotion and memory format as ``*``).

    Shape:
        x: [N, C, H, W], s: [N, C, 1, 1] -> [N, C, H, W]

    Double backward is not supported.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, s: Tensor) -> Tensor:
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              s if ctx.needs_input_grad[0] else None)
        ctx.dtypes = (x.dtype, s.dtype)
        return x * s

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx,
                 grad: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        x, s = ctx.saved_tensors
        x_dtype, s_dtype = ctx.dtypes
        grad_x = grad_s = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad * s).to(x_dtype)
        if ctx.needs_input_grad[1]:
            grad_s = channel_dot(grad, x).to(s_dtype)
        return grad_x, grad_s
