"""Global average pooling whose backward adds into the incoming gradient.

The "avg" context modeling of GCNet's eq. (4) (alpha_j = 1/P; SE, Table 2
(f)). Under plain autograd the mean's backward writes a full map of
dL/dmean / P and autograd then sums it with the gradient that reaches x
through the fusion: three map passes more than needed. As in
:class:`~.attention_pool.AttentionPool`, this function returns ``x``
itself, so that the caller fuses into it and its backward receives that
gradient ``g`` and forms ``g + dL/dmean / P`` in one pass.

Shape shorthand: N batch, C channels, H x W map, P = H * W positions.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class AveragePool(torch.autograd.Function):
    """``x -> (x, mean over H, W)``.

    Args (of ``apply``):
        x (Tensor): Feature map, NCHW or channels_last.

    Returns:
        tuple[Tensor, Tensor]: ``x`` (the same values; the caller fuses
        into it) and its mean over the positions (``x.mean``'s dtype).

    Shape:
        x: [N, C, H, W] -> ([N, C, H, W], [N, C, 1, 1])

    Double backward is not supported.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tuple[Tensor, Tensor]:
        ctx.shape = x.shape
        ctx.x_dtype = x.dtype
        ctx.set_materialize_grads(False)
        return x, x.mean(dim=(2, 3), keepdim=True)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_x: Optional[Tensor],
                 grad_mean: Optional[Tensor]) -> Optional[Tensor]:
        if grad_mean is None:
            return grad_x
        n, c, h, w = ctx.shape
        # [N, C, 1, 1], broadcast over H, W
        grad_mean = (grad_mean / (h * w)).to(ctx.x_dtype)
        if grad_x is None:
            return grad_mean.expand(n, c, h, w)
        # one read of g, one write (keeps g's memory format)
        return grad_x + grad_mean
