"""Non-local block with the four instantiations of eq. (1), in 1-D/2-D/3-D.

Wang et al., Non-local Neural Networks (CVPR 2018), as written in GCNet
(https://arxiv.org/abs/1904.11492) section 3.1, eq. (1); Table 2 (a)
"+1 NL", Table 1, Table 5 "+5 NL". Reference code consulted: mmcv
``mmcv/cnn/bricks/non_local.py`` (same arguments, attributes and
state-dict keys, so mmcv's ``NonLocal1d/2d/3d`` checkpoints, MMAction2's
included, load with strict=True) and timm ``timm/layers/non_local_attn.py``.

Shape shorthand: N batch, C channels, S the positions' shape (L, H x W or
T x H x W), P their number, Pk the number of keys and values (P, or about
P / 4 with ``sub_sample``), R embedding channels.

Cost: (embedded) Gaussian with embeddings of at most ``SDPA_MAX_DIM``
channels goes through ``scaled_dot_product_attention`` (flash /
memory-efficient kernels, no [N, P, Pk] tensor); dot product uses
(theta phi^T) g = theta (phi^T g), O(P R^2); concatenation needs only
[N, P, Pk] scalars, ReLU(w1 . theta_i + w2 . phi_j), never mmcv's
[N, 2R, P, Pk]. Otherwise (and whenever ``record_attention``) the
[N, P, Pk] attention is explicit: softmax and concatenation in fp32,
embedded-Gaussian logits in the autocast dtype, Gaussian and dot-product
logits in fp32.
"""
from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmengine.model import constant_init, kaiming_init, normal_init
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor, nn

from .amp import accumulation_dtype, no_autocast
from .arg_checks import check_choice, embedding_channels

MODES = ('gaussian', 'embedded_gaussian', 'dot_product', 'concatenation')
MODE_ALIASES = {'concat': 'concatenation'}
# mmcv's max-pool of the keys and values: spatial only
SUB_SAMPLE = {
    1: (nn.MaxPool1d, 2),
    2: (nn.MaxPool2d, (2, 2)),
    3: (nn.MaxPool3d, (1, 2, 2))
}
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
    - ``'dot_product'``: <theta_i, phi_j> / Pk;
    - ``'concatenation'`` (alias ``'concat'``): ReLU(w . [theta_i,
      phi_j]) / Pk.

    Layers are mmcv ConvModules: ``g`` (W_v), ``theta``, ``phi``
    (absent in ``'gaussian'``), ``conv_out`` (W_z, then the norm of
    ``norm_cfg``) and ``concat_project`` (w, in ``'concatenation'`` only;
    its weight is read, the module is not run). With ``sub_sample``,
    ``g`` and ``phi`` are ``nn.Sequential(conv, max_pool)`` (``phi`` is
    the max-pool in ``'gaussian'``). Our checkpoints from before this
    layout (plain convs, ``g.weight``) still load: see
    :meth:`_load_from_state_dict`.

    W_z's output is zero-initialised (the norm's scale and shift with
    ``norm_cfg``, else the conv), so the block starts as the identity;
    ``init_weights()`` re-applies this (normal(0, std) for W_v, W_q, W_k as
    in mmcv; Kaiming (fan_in) for w).

    Args:
        in_channels (int): C, channels of the input.
        ratio (float, optional): Embedding ratio, R = int(C * ratio).
            Default: 1/2 (unless ``reduction`` is given).
        mode (str): One of ``MODES`` or ``MODE_ALIASES``.
            Default: ``'embedded_gaussian'``.
        use_scale (bool): Divide embedded-Gaussian logits by sqrt(R).
            Default: True.
        dimension (int): 1, 2 or 3: input [N, C, L], [N, C, H, W] or
            [N, C, T, H, W]. Default: 2.
        sub_sample (bool): Max-pool the keys and values (mmcv's kernel 2,
            2x2, 1x2x2). Default: False.
        norm_cfg (dict, optional): Norm after W_z (e.g. ``dict(type='BN3d')``
            as MMAction2). Default: None.
        zeros_init (bool): Zero-initialise W_z's output. Default: True.
        reduction (int, optional): mmcv's spelling of the embedding size,
            R = max(C // reduction, 1); not with ``ratio``. Default: None.
        conv_cfg (dict, optional): Conv layer config of g, theta, phi and
            W_z. Default: None, ``Conv{dimension}d``.
        std (float): Std of the normal init. Default: 0.01.

    Shape:
        x: [N, C, *S] -> [N, C, *S], S of ``dimension`` dims

    Setting ``record_attention = True`` stores w ([N, P, Pk], fp32,
    detached; row i is query i) in ``last_attention`` at each forward.
    """

    _abbr_ = 'nonlocal_block'
    last_attention: Optional[Tensor]

    def __init__(self,
                 in_channels: int,
                 ratio: Optional[float] = None,
                 mode: str = 'embedded_gaussian',
                 use_scale: bool = True,
                 dimension: int = 2,
                 sub_sample: bool = False,
                 norm_cfg: Optional[dict] = None,
                 zeros_init: bool = True,
                 reduction: Optional[int] = None,
                 conv_cfg: Optional[dict] = None,
                 std: float = 0.01) -> None:
        super().__init__()
        r = embedding_channels(in_channels, ratio, reduction)
        check_choice('mode', mode, MODES + tuple(MODE_ALIASES))
        check_choice('dimension', dimension, tuple(SUB_SAMPLE))
        self.in_channels, self.inter_channels = in_channels, r
        self.ratio, self.reduction = ratio, reduction
        self.mode = MODE_ALIASES.get(mode, mode)
        self.use_scale, self.dimension = use_scale, dimension
        self.sub_sample = sub_sample
        self.zeros_init, self.std = zeros_init, std
        conv_cfg = conv_cfg or dict(type=f'Conv{dimension}d')

        def conv(c_in: int, c_out: int, **kwargs: Any) -> ConvModule:
            return ConvModule(
                c_in, c_out, 1, conv_cfg=conv_cfg, act_cfg=None, **kwargs)

        # W_v; W_q, W_k (not in 'gaussian'); W_z (+ norm); w = [w1, w2]
        self.g = conv(in_channels, r)
        self.conv_out = conv(r, in_channels, norm_cfg=norm_cfg)
        if self.mode != 'gaussian':
            self.theta = conv(in_channels, r)
            self.phi = conv(in_channels, r)
        if self.mode == 'concatenation':  # a Conv2d in mmcv, any dimension
            self.concat_project = ConvModule(
                2 * r, 1, 1, bias=False, act_cfg=dict(type='ReLU'))
        if sub_sample:
            pool_cls, kernel = SUB_SAMPLE[dimension]
            pool = pool_cls(kernel_size=kernel)
            self.g = nn.Sequential(self.g, pool)
            self.phi = (
                pool if self.mode == 'gaussian' else nn.Sequential(
                    self.phi, pool))
        self.scale = (
            r**-0.5 if self.mode == 'embedded_gaussian' and use_scale else 1.)
        self.record_attention = False
        self.last_attention = None
        self.init_weights()

    def _convs(self) -> Dict[str, nn.Module]:
        """Attribute -> the conv inside it (``g`` -> ``g[0].conv``)."""
        convs = {}
        for name in ('g', 'theta', 'phi', 'conv_out', 'concat_project'):
            module = getattr(self, name, None)
            if isinstance(module, nn.Sequential):
                module = module[0]
            if isinstance(module, ConvModule):
                convs[name] = module.conv
        return convs

    def init_weights(self,
                     std: Optional[float] = None,
                     zeros_init: Optional[bool] = None) -> None:
        """Normal(0, std) embeddings, Kaiming w, zero W_z output.

        Args (mmcv's signature):
            std (float, optional): Default: the constructor's ``std``.
            zeros_init (bool, optional): Zero (else normal) W_z output.
                Default: the constructor's ``zeros_init``.
        """
        std = self.std if std is None else std
        zeros_init = self.zeros_init if zeros_init is None else zeros_init
        convs = self._convs()
        for name in ('g', 'theta', 'phi'):
            if name in convs:
                normal_init(convs[name], std=std)
        if 'concat_project' in convs:
            kaiming_init(convs['concat_project'], mode='fan_in')
        out = (
            self.conv_out.norm
            if self.conv_out.with_norm else self.conv_out.conv)
        if zeros_init:
            constant_init(out, val=0)
        else:
            normal_init(out, std=std)

    def _load_from_state_dict(self, state_dict: dict, prefix: str,
                              local_metadata: dict, *args: Any) -> None:
        """Also load our old layout: plain convs ``g.weight``, ...

        Keys ``{g,theta,phi,conv_out,concat_project}.{weight,bias}`` are
        renamed to this layout's (``g.conv.weight``, or ``g.0.conv.weight``
        with ``sub_sample``), where the new key is absent.
        """
        paths = {
            name: ('.0.conv' if isinstance(getattr(self, name), nn.Sequential)
                   else '.conv')
            for name in self._convs()
        }
        for name, path in paths.items():
            for param in ('weight', 'bias'):
                old = f'{prefix}{name}.{param}'
                new = f'{prefix}{name}{path}.{param}'
                if old in state_dict and new not in state_dict:
                    state_dict[new] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      *args)

    def pairwise_weight(self, query: Tensor, key: Tensor) -> Tensor:
        """Explicit w_ij, returned in fp32 (fp64 for fp64 input).

        Shape:
            query: [N, P, E], key: [N, Pk, E] -> [N, P, Pk]
        """
        p = key.shape[1]
        acc = accumulation_dtype(query.dtype)
        if self.mode == 'embedded_gaussian':
            # In the autocast dtype under AMP, scaled before the product so
            # that the logits stay in range; softmax in fp32.
            # [N, P, E] @ [N, E, Pk] -> [N, P, Pk]
            logits = torch.matmul(query * self.scale, key.transpose(1, 2))
            return torch.softmax(logits, dim=-1, dtype=acc)
        with no_autocast(query.device.type):
            query, key = query.to(acc), key.to(acc)
            if self.mode == 'concatenation':
                # [2, R]: w1 acts on theta_i, w2 on phi_j
                w = self.concat_project.conv.weight.to(acc).view(2, -1)
                # [N, P, 1] + [N, 1, Pk] -> [N, P, Pk]; / Pk folded in
                logits = (
                    torch.matmul(query, w[0] / p).unsqueeze(2) +
                    torch.matmul(key, w[1] / p).unsqueeze(1))
                return F.relu(logits, inplace=True)
            # gaussian (raw <x_i, x_j> can be large: fp32), dot product
            # [N, P, E] @ [N, E, Pk] -> [N, P, Pk]
            logits = torch.matmul(query, key.transpose(1, 2))
            if self.mode == 'dot_product':
                return logits / p
            return torch.softmax(logits, dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """Eq. (1); see the class docstring."""
        n, spatial = x.shape[0], x.shape[2:]
        # [N, R, *S] -> [N, Pk, R]
        value = self.g(x).flatten(2).transpose(1, 2)
        if self.mode == 'gaussian':
            # [N, P, C], [N, Pk, C]
            query = x.flatten(2).transpose(1, 2)
            key = query
            if self.sub_sample:  # self.phi is the max-pool
                key = self.phi(x).flatten(2).transpose(1, 2)
        else:
            # [N, P, R], [N, Pk, R]
            query = self.theta(x).flatten(2).transpose(1, 2)
            key = self.phi(x).flatten(2).transpose(1, 2)

        # widest of query/key (C for 'gaussian', else R) and value (R)
        dim = (
            self.in_channels
            if self.mode == 'gaussian' else self.inter_channels)
        explicit = self.record_attention or self.mode == 'concatenation' or (
            self.mode != 'dot_product'
            and max(dim, self.inter_channels) > SDPA_MAX_DIM)
        if explicit:
            # [N, P, Pk]
            attn = self.pairwise_weight(query, key)
            self.last_attention = (
                attn.detach() if self.record_attention else None)
            # [N, P, Pk] @ [N, Pk, R] -> [N, P, R]
            y = torch.matmul(attn.to(value.dtype), value)
        elif self.mode == 'dot_product':
            self.last_attention = None
            acc = accumulation_dtype(x.dtype)
            with no_autocast(x.device.type):
                # [N, R, Pk] @ [N, Pk, R] -> [N, R, R], fp32
                kv = torch.matmul(key.to(acc).transpose(1, 2), value.to(acc))
                # [N, P, R] @ [N, R, R] -> [N, P, R]
                y = torch.matmul(query.to(acc),
                                 kv / key.shape[1]).to(value.dtype)
        else:
            self.last_attention = None
            # [N, 1, P, E], [N, 1, Pk, E], [N, 1, Pk, R] -> [N, P, R]
            y = F.scaled_dot_product_attention(
                query.unsqueeze(1),
                key.unsqueeze(1),
                value.unsqueeze(1),
                scale=self.scale).squeeze(1)
        # [N, P, R] -> [N, R, *S] (a channels_last view, no copy)
        y = y.transpose(1, 2).reshape(n, self.inter_channels, *spatial)
        return x + self.conv_out(y)

    def extra_repr(self) -> str:
        size = (f'reduction={self.reduction}' if self.reduction is not None
                else f'ratio={self.ratio or 1 / 2}')
        return (f'mode={self.mode!r}, {size}, dimension={self.dimension}, '
                f'sub_sample={self.sub_sample}, use_scale={self.use_scale}')
