"""Non-local block with the four instantiations of eq. (1).

Wang et al., Non-local Neural Networks (CVPR 2018), as written in GCNet
(https://arxiv.org/abs/1904.11492) section 3.1, eq. (1); Table 2 (a)
"+1 NL", Table 1. Reference code consulted: mmcv
``mmcv/cnn/bricks/non_local.py`` and timm ``timm/layers/non_local_attn.py``.

Shape shorthand: N batch, C channels, H x W map, P = H * W positions,
R = int(C * ratio) embedding channels.

Cost: (embedded) Gaussian with embeddings of at most ``SDPA_MAX_DIM``
channels goes through ``scaled_dot_product_attention`` (flash /
memory-efficient kernels, no [N, P, P] tensor); dot product uses
(theta phi^T) g = theta (phi^T g), O(P R^2); concat needs only [N, P, P]
scalars, ReLU(w1 . theta_i + w2 . phi_j), never mmcv's [N, 2R, P, P].
Otherwise (and whenever ``record_attention``) the [N, P, P] attention is
explicit: softmax and concat in fp32, embedded-Gaussian logits in the
autocast dtype, Gaussian and dot-product logits in fp32.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import constant_init, kaiming_init, normal_init
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor, nn

from .amp import accumulation_dtype, no_autocast
from .arg_checks import check_choice, reduced_channels

MODES = ('gaussian', 'embedded_gaussian', 'dot_product', 'concat')
# Largest head dim of the flash / memory-efficient SDPA kernels. Above it
# PyTorch falls back to its math kernel, which is slower than an explicit
# softmax(QK^T) V (docs/benchmarks.md, "GPU"), so the explicit path is
# used.
SDPA_MAX_DIM = 256


@ROOT_MODELS.register_module()
@MODELS.register_module()
class NonLocal(nn.Module):
    """Non-local block, eq. (1): z_i = x_i + W_z sum_j w_ij (W_v x_j).

    ``mode`` chooses w_ij (section 3.1), with theta = W_q x, phi = W_k x:

    - ``'gaussian'``: softmax_j <x_i, x_j> (no embedding, no scale);
    - ``'embedded_gaussian'``: softmax_j <theta_i, phi_j> / s, with
      s = sqrt(R) if ``use_scale`` else 1;
    - ``'dot_product'``: <theta_i, phi_j> / P;
    - ``'concat'``: ReLU(w . [theta_i, phi_j]) / P.

    W_z (``conv_out``) is zero-initialised, so the block starts as the
    identity; ``init_weights()`` re-applies this (normal(0, 0.01) for
    W_v, W_q, W_k as in mmcv).

    Args:
        in_channels (int): C, channels of the input map.
        ratio (float): Embedding ratio, R = int(C * ratio). Default: 1/2.
        mode (str): One of ``MODES``. Default: ``'embedded_gaussian'``.
        use_scale (bool): Divide embedded-Gaussian logits by sqrt(R).
            Default: True.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    Setting ``record_attention = True`` stores w ([N, P, P], fp32,
    detached; row i is query i) in ``last_attention`` at each forward.
    """

    _abbr_ = 'nonlocal_block'
    last_attention: Optional[Tensor]

    def __init__(self,
                 in_channels: int,
                 ratio: float = 1 / 2,
                 mode: str = 'embedded_gaussian',
                 use_scale: bool = True) -> None:
        super().__init__()
        self.inter_channels = reduced_channels(in_channels, ratio, 'embedding')
        check_choice('mode', mode, MODES)
        self.in_channels = in_channels
        self.ratio = ratio
        self.mode = mode
        self.use_scale = use_scale
        r = self.inter_channels
        embed = mode != 'gaussian'
        # W_v; W_q, W_k (not in 'gaussian'); W_z
        self.g = nn.Conv2d(in_channels, r, kernel_size=1)
        self.theta = nn.Conv2d(in_channels, r, 1) if embed else None
        self.phi = nn.Conv2d(in_channels, r, 1) if embed else None
        # w = [w1, w2] over [theta_i, phi_j]
        self.concat_project = (
            nn.Conv2d(2 * r, 1, 1, bias=False) if mode == 'concat' else None)
        self.conv_out = nn.Conv2d(r, in_channels, kernel_size=1)
        self.scale = (
            r**-0.5 if mode == 'embedded_gaussian' and use_scale else 1.0)
        self.record_attention = False
        self.last_attention = None
        self.init_weights()

    def init_weights(self, std: float = 0.01) -> None:
        """Normal(0, std) embeddings, Kaiming w, zero W_z (identity)."""
        for conv in (self.g, self.theta, self.phi):
            if conv is not None:
                normal_init(conv, std=std)
        if self.concat_project is not None:
            kaiming_init(self.concat_project, mode='fan_in')
        constant_init(self.conv_out, val=0)

    def pairwise_weight(self, query: Tensor, key: Tensor) -> Tensor:
        """Explicit w_ij, returned in fp32 (fp64 for fp64 input).

        Shape:
            query: [N, P, E], key: [N, P, E] -> [N, P, P]
        """
        p = query.shape[1]
        acc = accumulation_dtype(query.dtype)
        if self.mode == 'embedded_gaussian':
            # In the autocast dtype under AMP, scaled before the product so
            # that the logits stay in range; softmax in fp32.
            # [N, P, E] @ [N, E, P] -> [N, P, P]
            logits = torch.matmul(query * self.scale, key.transpose(1, 2))
            return torch.softmax(logits, dim=-1, dtype=acc)
        with no_autocast(query.device.type):
            query, key = query.to(acc), key.to(acc)
            if self.concat_project is not None:
                # [2, R]: w1 acts on theta_i, w2 on phi_j
                w = self.concat_project.weight.to(acc).view(2, -1)
                # [N, P, 1] + [N, 1, P] -> [N, P, P]; / P folded in (P > 0)
                logits = (
                    torch.matmul(query, w[0] / p).unsqueeze(2) +
                    torch.matmul(key, w[1] / p).unsqueeze(1))
                return F.relu(logits, inplace=True)
            # gaussian (raw <x_i, x_j> can be large: fp32), dot product
            # [N, P, E] @ [N, E, P] -> [N, P, P]
            logits = torch.matmul(query, key.transpose(1, 2))
            if self.mode == 'dot_product':
                return logits / p
            return torch.softmax(logits, dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """Eq. (1); see the class docstring."""
        n, c, h, w = x.shape
        p = h * w
        # [N, R, H, W] -> [N, P, R]
        value = self.g(x).flatten(2).transpose(1, 2)
        if self.theta is not None and self.phi is not None:
            # [N, P, R]
            query = self.theta(x).flatten(2).transpose(1, 2)
            key = self.phi(x).flatten(2).transpose(1, 2)
        else:  # 'gaussian'
            # [N, P, C]
            query = key = x.flatten(2).transpose(1, 2)

        # widest of query/key (C for 'gaussian', else R) and value (R)
        dim = self.in_channels if self.theta is None else self.inter_channels
        explicit = self.record_attention or self.mode == 'concat' or (
            self.mode != 'dot_product'
            and max(dim, self.inter_channels) > SDPA_MAX_DIM)
        if explicit:
            # [N, P, P]
            attn = self.pairwise_weight(query, key)
            self.last_attention = (
                attn.detach() if self.record_attention else None)
            # [N, P, P] @ [N, P, R] -> [N, P, R]
            y = torch.matmul(attn.to(value.dtype), value)
        elif self.mode == 'dot_product':
            self.last_attention = None
            acc = accumulation_dtype(x.dtype)
            with no_autocast(x.device.type):
                # [N, R, P] @ [N, P, R] -> [N, R, R], fp32
                kv = torch.matmul(key.to(acc).transpose(1, 2), value.to(acc))
                # [N, P, R] @ [N, R, R] -> [N, P, R]
                y = torch.matmul(query.to(acc), kv / p).to(value.dtype)
        else:
            self.last_attention = None
            # [N, 1, P, E] x 2, [N, 1, P, R] -> [N, 1, P, R] -> [N, P, R]
            y = F.scaled_dot_product_attention(
                query.unsqueeze(1),
                key.unsqueeze(1),
                value.unsqueeze(1),
                scale=self.scale).squeeze(1)
        # [N, P, R] -> [N, R, H, W] (a channels_last view, no copy)
        y = y.transpose(1, 2).reshape(n, self.inter_channels, h, w)
        return x + self.conv_out(y)

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, ratio={self.ratio}, '
                f'use_scale={self.use_scale}')
