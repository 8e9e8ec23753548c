"""Global attention pooling with a fused backward, the hot path of GC/SNL.

Context modeling of eqs. (2)-(5) of GCNet (https://arxiv.org/abs/1904.11492)
reads the feature map twice in the forward (the 1x1 conv W_k and the
pooling) and, under plain autograd, writes three full-size gradients in the
backward (one each from the conv, the pooling and the fusion) that are then
summed. All three are rank-one terms or the incoming gradient itself:

    dL/dx = g + dL/dcontext (x) alpha + W_k (x) dL/dlogits

so this function computes them as one batched rank-2 GEMM added to ``g``
(``baddbmm``): one read of ``g``, one write of ``dL/dx``. To receive ``g``
it returns ``x`` itself as an output, through which the caller fuses.

Shape shorthand: N batch, C channels, H x W map, P = H * W positions.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from .amp import accumulation_dtype, no_autocast


def _is_channels_last(x: Tensor) -> bool:
    """True if ``x`` is stored NHWC (and not also plain contiguous)."""
    return (x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous())


class AttentionPool(torch.autograd.Function):
    """``(x, W_k, b_k) -> (x, context, alpha)``, softmax in >= fp32.

    The bias b_k of W_k cancels in the softmax (alpha is shift-invariant),
    so it is not added; its gradient is the (zero) sum of dL/dlogits.

    Args (of ``apply``):
        x (Tensor): Feature map, NCHW or channels_last.
        weight (Tensor): W_k, the ``conv_mask`` weight, ``[1, C, 1, 1]``.
        bias (Tensor): its bias, ``[1]``.
        dtype (torch.dtype): Dtype of the two GEMMs (the autocast dtype
            under autocast, else ``x.dtype``).

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``x`` (the same values; the caller
        fuses into it so that its gradient arrives here), the context
        ``sum_j alpha_j x_j`` in ``dtype`` and the attention ``alpha``
        (fp32, fp64 for fp64 input; not differentiable).

    Shape:
        x: [N, C, H, W] -> ([N, C, H, W], [N, C, 1, 1], [N, P])

    Double backward is not supported.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor,
                dtype: torch.dtype) -> Tuple[Tensor, Tensor, Tensor]:
        n, c, h, w = x.shape
        acc = accumulation_dtype(dtype)
        with no_autocast(x.device.type):
            x_c = x if x.dtype == dtype else x.to(dtype)
            # [N, C, P]; a view for NCHW and for channels_last
            x_flat = x_c.flatten(2)
            w_k = weight.view(1, 1, c)
            w_k = w_k if w_k.dtype == dtype else w_k.to(dtype)
            # [N, 1, C] @ [N, C, P] -> [N, 1, P]; bmm, not matmul: matmul
            # folds a broadcast [1, 1, C] into one mm over a transposed,
            # copied x (a full extra read and write of the map).
            logits = torch.bmm(w_k.expand(n, 1, c), x_flat)
            # [N, 1, P], fp32 (or fp64) whatever the input dtype
            attn = torch.softmax(logits, dim=-1, dtype=acc)
            # [N, C, P] @ [N, P, 1] -> [N, C, 1]
            context = torch.bmm(
                x_flat,
                (attn if acc == dtype else attn.to(dtype)).transpose(1, 2))
        ctx.save_for_backward(x_c, weight, attn)
        ctx.x_dtype = x.dtype
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(attn)
        return x, context.view(n, c, 1, 1), attn.view(n, h * w)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_x: Optional[Tensor],
                 grad_context: Optional[Tensor],
                 grad_attn: Optional[Tensor]) -> tuple:
        x_c, weight, attn = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, c = x_c.shape[:2]
        if grad_context is None:
            grad_x = None if grad_x is None else grad_x.to(ctx.x_dtype)
            return (grad_x, torch.zeros_like(weight), weight.new_zeros(1),
                    None)
        dtype, acc = x_c.dtype, attn.dtype
        grad_weight = grad_bias = dx = None
        with no_autocast(x_c.device.type):
            # [N, C, P]
            x_flat = x_c.flatten(2)
            # [N, 1, C]
            grad_ctx = grad_context.reshape(n, 1, c).to(dtype)
            # dL/dalpha: [N, 1, C] @ [N, C, P] -> [N, 1, P]
            grad_alpha = torch.bmm(grad_ctx, x_flat)
            # softmax backward in fp32: [N, 1, P]
            grad_logits = torch._softmax_backward_data(
                grad_alpha.to(acc), attn, -1, acc)
            grad_logits_c = grad_logits.to(dtype)
            if need_w:
                # dL/dW_k: [N, C, P] @ [N, P, 1] -> [N, C, 1] -> [1, C, 1, 1]
                grad_weight = torch.bmm(x_flat, grad_logits_c.transpose(1, 2))
                grad_weight = grad_weight.sum(0).view_as(weight).to(
                    weight.dtype)
            if need_b:
                grad_bias = grad_logits.sum().view(1).to(weight.dtype)
            if need_x:
                dx = _grad_input(grad_x, x_c, weight, attn, grad_ctx,
                                 grad_logits_c, ctx.x_dtype)
        return dx, grad_weight, grad_bias, None


def _grad_input(grad_x: Optional[Tensor], x_c: Tensor, weight: Tensor,
                attn: Tensor, grad_ctx: Tensor, grad_logits: Tensor,
                x_dtype: torch.dtype) -> Tensor:
    """dL/dx = g + dL/dcontext (x) alpha + W_k (x) dL/dlogits, one GEMM.

    Shape:
        grad_x (g): [N, C, H, W] or None; x_c: [N, C, H, W];
        weight: [1, C, 1, 1]; attn, grad_logits: [N, 1, P];
        grad_ctx: [N, 1, C] -> [N, C, H, W] in ``x_dtype``
    """
    n, c, h, w = x_c.shape
    dtype = x_c.dtype
    out_dtype = x_dtype if grad_x is None else grad_x.dtype
    # [N, C, 2]
    w_k = weight.view(1, c, 1).to(dtype).expand(n, c, 1)
    left = torch.cat([grad_ctx.transpose(1, 2), w_k], dim=2).to(out_dtype)
    # [N, 2, P]
    right = torch.cat([attn.to(dtype), grad_logits], dim=1).to(out_dtype)
    if _is_channels_last(x_c):
        # NHWC: [N, P, 2] @ [N, 2, C] (+ g as [N, P, C])
        left, right = right.transpose(1, 2), left.transpose(1, 2)
        if grad_x is None:
            dx = torch.bmm(left, right)
        else:
            g = grad_x.permute(0, 2, 3, 1).reshape(n, h * w, c)
            dx = torch.baddbmm(g, left, right)
        # [N, P, C] -> [N, C, H, W] (channels_last, no copy)
        dx = dx.view(n, h, w, c).permute(0, 3, 1, 2)
    else:
        if grad_x is None:
            dx = torch.bmm(left, right)
        else:
            dx = torch.baddbmm(grad_x.reshape(n, c, h * w), left, right)
        # [N, C, P] -> [N, C, H, W]
        dx = dx.view(n, c, h, w)
    return dx.to(x_dtype)
