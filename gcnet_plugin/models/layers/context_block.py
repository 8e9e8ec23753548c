"""Global context (GC) block and its simplified non-local (SNL) preset.

GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond
(Cao et al., 2019, https://arxiv.org/abs/1904.11492), eqs. (3)-(5), Fig. 4,
Table 2 (a), (d), (e), (f). Reference code consulted: mmcv
``mmcv/cnn/bricks/context_block.py`` (same parameter names and shapes, so
MMDetection's GCNet checkpoints load unchanged) and timm
``timm/layers/global_context.py``.

Shape shorthand: N batch, C channels, H x W map (T x H x W for a clip),
P = H * W (T * H * W) positions, R = int(C * ratio) bottleneck channels.
"""
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmdet.registry import MODELS
from mmengine.model import constant_init, kaiming_init
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor, nn

from .amp import accumulation_dtype, autocast_dtype
from .arg_checks import check_choice, check_in_channels, reduced_channels
from .attention_pool import AttentionPool
from .average_pool import AveragePool
from .channel_scale import ChannelScale

POOLING_TYPES = ('att', 'avg')
FUSION_TYPES = ('channel_add', 'channel_mul')
NORM_TYPES = ('LN', )


def _check_args(in_channels: int, ratio: Optional[float], pooling_type: str,
                fusion_types: Sequence[str], norm_cfg: Optional[dict]) -> int:
    """Raise ``ValueError`` naming the first bad argument; return R."""
    if ratio is None:
        check_in_channels(in_channels)
        planes = in_channels
    else:
        planes = reduced_channels(in_channels, ratio, 'bottleneck')
    check_choice('pooling_type', pooling_type, POOLING_TYPES)
    if not isinstance(fusion_types, (list, tuple)):
        raise ValueError('fusion_types must be a list or tuple of '
                         f'{FUSION_TYPES}, got {fusion_types!r}')
    if len(fusion_types) == 0:
        raise ValueError(f'fusion_types is empty ({fusion_types!r}); give at '
                         f'least one of {FUSION_TYPES}')
    for fusion in fusion_types:
        check_choice('each of fusion_types', fusion, FUSION_TYPES)
    if len(set(fusion_types)) != len(fusion_types):
        raise ValueError(f'fusion_types has duplicates: {fusion_types!r}')
    if norm_cfg is not None:
        check_choice("norm_cfg['type']", norm_cfg.get('type'), NORM_TYPES)
    return planes


@ROOT_MODELS.register_module(force=True)  # replaces mmcv's ContextBlock
@MODELS.register_module()
class ContextBlock(nn.Module):
    """Global context block, eq. (4): z = F(x, transform(pool(x))).

    Default: the GC block of eq. (5), z_i = x_i + W_v2 ReLU(LN(W_v1
    sum_j alpha_j x_j)) with alpha = softmax(W_k x) over the P positions.
    Variants of Table 2 are arguments: ``ratio=None`` is the one-conv
    transform ("w/o ratio", the SNL of eq. (3)); ``norm_cfg=None`` and
    ``act_cfg=None`` give "r16+ReLU" / "r16"; ``pooling_type='avg'``
    (alpha_j = 1/P) and ``fusion_types=('channel_mul',)`` give Table 2 (f).

    With mmcv's arguments the module has the same state-dict keys and
    shapes as ``mmcv.cnn.ContextBlock`` (``conv_mask``,
    ``channel_add_conv.{0,1,3}``, ``channel_mul_conv.{0,1,3}``) and
    computes the same outputs. The last conv of each transform is
    zero-initialised: with ``'channel_add'`` the block starts as the
    identity, with ``'channel_mul'`` alone it starts as ``x * 0.5``
    (sigmoid(0)), as in mmcv and the paper's code. ``init_weights()``
    re-applies this after a backbone's own init (mmengine calls it after
    ResNet's Kaiming init of every Conv2d).

    A clip [N, C, T, H, W] is pooled over all T * H * W positions by the
    same code: it is viewed as the map [N, C, T * H, W], whose positions
    are the same (the pooling, transform and fusion do not depend on the
    map's shape), so 2-D and 3-D blocks share parameters, fused backward
    and zero init.

    Args:
        in_channels (int): C, channels of the input map.
        ratio (float, optional): Bottleneck ratio, R = int(C * ratio).
            ``None``: one C -> C conv, no norm or activation.
            Default: 1/16.
        pooling_type (str): ``'att'`` (attention pooling) or ``'avg'``.
            Default: ``'att'``.
        fusion_types (Sequence[str]): Non-empty subset of
            ``('channel_add', 'channel_mul')``; mul is applied first.
            Default: ``('channel_add',)``.
        norm_cfg (dict, optional): Norm after the first conv; only
            ``dict(type='LN')`` (LayerNorm over [R, 1, 1]) or ``None``.
            Default: ``dict(type='LN')``.
        act_cfg (dict, optional): Activation of the bottleneck, or ``None``.
            Default: ``dict(type='ReLU')``.

    Shape:
        x: [N, C, H, W] (NCHW or channels_last) -> [N, C, H, W], or
        [N, C, T, H, W] (NCTHW or channels_last_3d) -> [N, C, T, H, W]

    When a gradient is needed, pooling and scale fusion run through
    autograd functions whose backward reads the map once per term
    (:class:`AttentionPool`, :class:`AveragePool`, :class:`ChannelScale`;
    no double backward); without (inference, TorchScript, tracing) they
    run as plain ops with the same results. The transform's 1x1 convs run
    as matrix products on the pooled [N, C] (the same parameters; the
    convs themselves under TorchScript).

    Setting ``record_attention = True`` stores the fp32 attention
    ``alpha`` ([N, P], detached) in ``last_attention`` at each forward
    (``'att'`` pooling only; otherwise it stays ``None``). The ``'avg'``
    block has mmcv's ``avg_pool`` (``nn.AdaptiveAvgPool2d(1)``, used by the
    inference path) and ``conv_mask = None``.
    """

    _abbr_ = 'context_block'
    last_attention: Optional[Tensor]

    def __init__(
        self,
        in_channels: int,
        ratio: Optional[float] = 1 / 16,
        pooling_type: str = 'att',
        fusion_types: Sequence[str] = ('channel_add', ),
        norm_cfg: Optional[dict] = dict(type='LN'),
        act_cfg: Optional[dict] = dict(type='ReLU')
    ) -> None:
        super().__init__()
        self.planes = _check_args(in_channels, ratio, pooling_type,
                                  fusion_types, norm_cfg)
        self.in_channels = in_channels
        self.ratio = ratio
        self.pooling_type = pooling_type
        self.fusion_types = tuple(fusion_types)
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.conv_mask = (
            nn.Conv2d(in_channels, 1, kernel_size=1)
            if pooling_type == 'att' else None)
        self.avg_pool = (
            nn.AdaptiveAvgPool2d(1) if pooling_type == 'avg' else None)
        self.channel_add_conv = (
            self._make_transform()
            if 'channel_add' in self.fusion_types else None)
        self.channel_mul_conv = (
            self._make_transform()
            if 'channel_mul' in self.fusion_types else None)
        self.record_attention = False
        self.last_attention = None
        self.init_weights()

    def _make_transform(self) -> nn.Sequential:
        """delta of eq. (4): conv, or conv-[LN]-[act]-conv (indices 0..3)."""
        if self.ratio is None:
            return nn.Sequential(
                nn.Conv2d(self.in_channels, self.in_channels, kernel_size=1))
        norm = (
            nn.LayerNorm([self.planes, 1, 1],
                         eps=self.norm_cfg.get('eps', 1e-5))
            if self.norm_cfg is not None else nn.Identity())
        act = (
            build_activation_layer(self.act_cfg)
            if self.act_cfg is not None else nn.Identity())
        # Identity placeholders keep the convs at indices 0 and 3 (mmcv's).
        return nn.Sequential(
            nn.Conv2d(self.in_channels, self.planes, kernel_size=1), norm, act,
            nn.Conv2d(self.planes, self.in_channels, kernel_size=1))

    def init_weights(self) -> None:
        """Kaiming (fan_in) W_k; zero last conv of each transform."""
        if self.conv_mask is not None:
            kaiming_init(self.conv_mask, mode='fan_in')
        for transform in (self.channel_add_conv, self.channel_mul_conv):
            if transform is not None:
                constant_init(transform[-1], val=0)

    def _compute_dtype(self, x: Tensor) -> torch.dtype:
        return autocast_dtype(x.device.type) or x.dtype

    @torch.jit.unused
    def _fused_pool(self,
                    x: Tensor) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        if self.conv_mask is None:  # 'avg'
            out, context = AveragePool.apply(x)
            return out, context, None
        return AttentionPool.apply(x, self.conv_mask.weight,
                                   self.conv_mask.bias, self._compute_dtype(x))

    @torch.jit.unused
    def _transform(self, name: str, context: Tensor) -> Tensor:
        """delta of eq. (4) on the pooled vector, as matrix products.

        The same modules and values as ``getattr(self, name)(context)``
        (``name``: ``'channel_add_conv'`` or ``'channel_mul_conv'``), but each
        1x1 conv of the [N, C, 1, 1] context runs as ``F.linear`` on
        [N, C]: a convolution kernel's fixed cost is most of the work on a
        1x1 map (docs/quickstart.md).
        """
        n = context.shape[0]
        # [N, C, 1, 1] -> [N, C]
        y = context.flatten(1)
        for layer in getattr(self, name):
            if isinstance(layer, nn.Conv2d):
                # [N, C_in] @ [C_in, C_out] -> [N, C_out]
                y = F.linear(y, layer.weight.flatten(1), layer.bias)
            elif isinstance(layer, nn.LayerNorm):
                # LN over [R, 1, 1] is LN over R
                y = F.layer_norm(y, y.shape[1:], layer.weight.flatten(),
                                 layer.bias.flatten(), layer.eps)
            else:
                y = layer(y)
        # [N, C] -> [N, C, 1, 1]
        return y.view(n, -1, 1, 1)

    @torch.jit.unused
    def _fused_scale(self, x: Tensor, scale: Tensor) -> Tensor:
        return ChannelScale.apply(x, scale)

    @torch.jit.unused
    def _fused(self, x: Tensor) -> bool:
        """Use the fused-backward functions: a gradient is needed, eager."""
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or any(
            p.requires_grad for p in self.parameters()))
        return needs_grad and not torch.jit.is_tracing()

    def _pool(self, x: Tensor,
              fused: bool) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Context modeling: returns (x, context [N, C, 1, 1], alpha)."""
        n, c, h, w = x.shape
        if fused:
            return self._fused_pool(x)
        if self.conv_mask is None:  # 'avg'
            # [N, C, 1, 1]
            return x, self.avg_pool(x), None
        # Inference / export path, plain autograd ops.
        # [N, 1, C] @ [N, C, P] -> [N, 1, P] (W_k x + b; bmm reads x once)
        w_k = self.conv_mask.weight.view(1, 1, c).expand(n, 1, c)
        logits = torch.bmm(w_k.to(x.dtype), x.flatten(2))
        bias = self.conv_mask.bias
        if bias is not None:
            logits = logits + bias.to(logits.dtype)
        # [N, 1, P], softmax in fp32 under autocast (fp64 for fp64)
        acc = accumulation_dtype(x.dtype)
        attn = torch.softmax(logits.to(acc), dim=-1)
        # [N, C, P] @ [N, P, 1] -> [N, C, 1]
        context = torch.matmul(
            x.flatten(2),
            attn.transpose(1, 2).to(logits.dtype))
        return x, context.view(n, c, 1, 1), attn.view(n, h * w)

    def forward(self, x: Tensor) -> Tensor:
        """Pool, transform and fuse; see the class docstring."""
        if x.dim() == 5:
            n, c, t, h, w = x.shape
            # [N, C, T, H, W] -> [N, C, T * H, W] (a view for NCTHW and
            # channels_last_3d), the same T * H * W positions
            out = self._forward_map(x.reshape(n, c, t * h, w))
            return out.reshape(n, c, t, h, w)
        if x.dim() != 4:
            raise ValueError('expected a map [N, C, H, W] or a clip '
                             f'[N, C, T, H, W], got shape {x.shape}')
        return self._forward_map(x)

    def _forward_map(self, x: Tensor) -> Tensor:
        """Forward on a map [N, C, H, W]."""
        fused = False
        if not torch.jit.is_scripting():
            fused = self._fused(x)
        out, context, attn = self._pool(x, fused)
        if self.record_attention and attn is not None:
            self.last_attention = attn.detach().float()
        else:
            self.last_attention = None
        if self.channel_mul_conv is not None:
            # [N, C, 1, 1], broadcast over H, W
            if torch.jit.is_scripting():
                delta = self.channel_mul_conv(context)
            else:
                delta = self._transform('channel_mul_conv', context)
            scale = torch.sigmoid(delta)
            out = self._fused_scale(out, scale) if fused else out * scale
        if self.channel_add_conv is not None:
            # [N, C, 1, 1], broadcast over H, W
            if torch.jit.is_scripting():
                delta = self.channel_add_conv(context)
            else:
                delta = self._transform('channel_add_conv', context)
            out = out + delta
        return out

    def extra_repr(self) -> str:
        return (f'ratio={self.ratio}, pooling_type={self.pooling_type!r}, '
                f'fusion_types={self.fusion_types}')


@ROOT_MODELS.register_module()
@MODELS.register_module()
class SimplifiedNonLocal(ContextBlock):
    """Simplified non-local block (SNL), eq. (3): a ContextBlock preset.

    z_i = x_i + W_v sum_j softmax(W_k x)_j x_j, with one C -> C conv W_v
    (zero-initialised, so the block starts as the identity), attention
    pooling and add fusion. Table 2 (a) "+1 SNL", Table 2 (d) "w/o ratio".

    Args:
        in_channels (int): C, channels of the input map.
        **kwargs: Any other argument of :class:`ContextBlock`; the
            defaults are ``PRESET``: ``ratio=None``, ``norm_cfg=None``,
            ``act_cfg=None`` (and ContextBlock's ``'att'``,
            ``('channel_add',)``).

    Shape:
        x: [N, C, H, W] -> [N, C, H, W], or [N, C, T, H, W] (as GC)
    """

    _abbr_ = 'snl_block'
    PRESET = dict(ratio=None, norm_cfg=None, act_cfg=None)

    def __init__(self, in_channels: int, **kwargs: Any) -> None:
        super().__init__(in_channels, **{**self.PRESET, **kwargs})
