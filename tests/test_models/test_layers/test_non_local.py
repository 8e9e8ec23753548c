"""NonLocal: eq. (1) transcription for the four modes in 2-D and 3-D, with
and without sub-sampling; init, memory, old checkpoints."""
import itertools
import math

import pytest
import torch
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from torch.utils._python_dispatch import TorchDispatchMode

from gcnet_plugin.models.layers import NonLocal, non_local
from gcnet_plugin.models.layers.non_local import MODES
from gcnet_plugin.models.random_weights import randomize_weights_


def _lin(module: torch.nn.Module, v: torch.Tensor) -> torch.Tensor:
    """A 1x1 ConvModule (conv only) applied to one position's vector."""
    conv = module.conv
    out = conv.weight.reshape(conv.out_channels, -1) @ v
    return out if conv.bias is None else out + conv.bias


def _conv_of(block: NonLocal, name: str) -> torch.nn.Module:
    """The ConvModule of ``g``/``phi``, inside a Sequential if sub-sampled."""
    module = getattr(block, name)
    return module[0] if isinstance(module, torch.nn.Sequential) else module


def _windows(size: tuple, kernel: tuple) -> list:
    """Flat position indices of each max-pool window, in output order."""
    grid = [range(s // k) for s, k in zip(size, kernel)]
    strides = [math.prod(size[d + 1:]) for d in range(len(size))]
    windows = []
    for out in itertools.product(*grid):
        offsets = itertools.product(*[range(k) for k in kernel])
        windows.append([
            sum((o * k + d) * s
                for o, k, d, s in zip(out, kernel, off, strides))
            for off in offsets
        ])
    return windows


def reference_nl(block: NonLocal, x: torch.Tensor) -> tuple:
    """Eq. (1) and section 3.1, one query i and one key j at a time; with
    ``sub_sample``, keys and values are maxima over mmcv's windows.

    Returns z and w ([N, P, Pk]).
    """
    n, c = x.shape[:2]
    size = tuple(x.shape[2:])
    p = math.prod(size)
    kernel = {1: (2, ), 2: (2, 2), 3: (1, 2, 2)}[x.dim() - 2]
    windows = (
        _windows(size, kernel) if block.sub_sample else [[j]
                                                         for j in range(p)])

    def pooled(vectors: list) -> list:  # max over each window
        return [torch.stack([vectors[j] for j in w]).amax(0) for w in windows]

    feats = x.reshape(n, c, p)
    z = torch.empty_like(feats)
    weights = torch.empty(n, p, len(windows), dtype=x.dtype)
    for b in range(n):
        xs = [feats[b, :, j] for j in range(p)]
        values = pooled([_lin(_conv_of(block, 'g'), xj)
                         for xj in xs])  # W_v x_j
        if block.mode == 'gaussian':
            queries, keys = xs, pooled(xs)
        else:
            queries = [_lin(block.theta, xj) for xj in xs]  # W_q x_i
            keys = pooled([_lin(_conv_of(block, 'phi'), xj)
                           for xj in xs])  # W_k x_j
        pk = len(keys)
        for i in range(p):
            if block.mode in ('gaussian', 'embedded_gaussian'):
                s = (
                    block.inter_channels**-0.5
                    if block.mode == 'embedded_gaussian' and block.use_scale
                    else 1.0)
                f = torch.stack(
                    [torch.exp(s * (queries[i] @ kj)) for kj in keys])
                wi = f / f.sum()
            elif block.mode == 'dot_product':
                wi = torch.stack([queries[i] @ kj for kj in keys]) / pk
            else:  # concatenation: ReLU(w . [theta_i, phi_j]) / Pk
                wc = block.concat_project.conv.weight.reshape(-1)
                wi = torch.stack([
                    torch.clamp(wc @ torch.cat([queries[i], kj]), min=0)
                    for kj in keys
                ]) / pk
            weights[b, i] = wi
            y = sum(wij * vj for wij, vj in zip(wi, values))
            z[b, :, i] = xs[i] + _lin(block.conv_out, y)
    return z.reshape(x.shape), weights


SHAPES = {2: (2, 8, 4, 4), 3: (2, 8, 2, 4, 2)}
CASES = ([(m, True, d, s) for m in MODES for d in (2, 3)
          for s in (False, True)] + [('embedded_gaussian', False, 2, False)])


@pytest.mark.parametrize('mode, use_scale, dimension, sub_sample', CASES)
def test_matches_equation(mode, use_scale, dimension, sub_sample):
    block = randomize_weights_(
        NonLocal(
            8,
            mode=mode,
            use_scale=use_scale,
            dimension=dimension,
            sub_sample=sub_sample)).double()
    x = torch.randn(SHAPES[dimension], dtype=torch.double) * 0.5
    z_ref, w_ref = reference_nl(block, x)
    assert w_ref.shape[-1] == (4 if sub_sample else 16)
    torch.testing.assert_close(block(x), z_ref, rtol=1e-9, atol=1e-9)
    block.record_attention = True
    torch.testing.assert_close(block(x), z_ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(
        block.last_attention, w_ref, rtol=1e-9, atol=1e-12)
    if mode in ('gaussian', 'embedded_gaussian'):
        torch.testing.assert_close(
            block.last_attention.sum(-1),
            torch.ones(2, 16, dtype=torch.double))


INIT_CASES = [
    dict(mode=m, dimension=d, sub_sample=s, norm_cfg=n) for m in MODES
    for d, s, n in [(2, False,
                     None), (3, True,
                             dict(type='BN3d')), (1, False, dict(type='BN1d'))]
]


@pytest.mark.parametrize('kwargs', INIT_CASES)
def test_identity_at_init_and_grads_after_one_step(kwargs):
    torch.manual_seed(0)
    block = NonLocal(8, **kwargs)
    x = torch.randn((2, 8, 2, 4, 4)[:2 + kwargs['dimension']])
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)
    zeroed = (
        block.conv_out.norm if kwargs['norm_cfg'] else block.conv_out.conv
    )  # mmcv's choice
    assert zeroed.weight.abs().max() == 0 and zeroed.bias.abs().max() == 0
    zeroed.weight.data.normal_()  # what one step would do
    block.init_weights()
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)

    opt = torch.optim.SGD(block.parameters(), lr=1.0)
    target = torch.randn_like(x)
    for _ in range(2):
        opt.zero_grad()
        ((block(x) - target)**2).sum().backward()
        opt.step()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name


@pytest.mark.parametrize('norm_cfg', [None, dict(type='BN')])
def test_zeros_init_false_is_not_the_identity(norm_cfg):
    torch.manual_seed(0)
    block = NonLocal(8, norm_cfg=norm_cfg, zeros_init=False, std=0.5)
    x = torch.randn(2, 8, 4, 3)
    assert (block(x) - x).abs().max() > 1e-3
    block.init_weights(zeros_init=True)  # mmcv's init_weights signature
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)


def _check_channels_last(block: NonLocal, x: torch.Tensor,
                         memory_format: torch.memory_format) -> None:
    """The block gives the same output on a channels-last copy of x, and a
    finite input gradient."""
    xc = x.to(memory_format=memory_format).requires_grad_()
    out_c = block(xc)
    torch.testing.assert_close(out_c, block(x), rtol=1e-5, atol=1e-5)
    out_c.sum().backward()
    assert torch.isfinite(xc.grad).all()


@pytest.mark.parametrize('mode', MODES)
def test_shapes_channels_last_and_recording(mode):
    block = randomize_weights_(NonLocal(8, mode=mode))
    for shape in [(1, 8, 5, 3), (2, 8, 1, 7)]:
        x = torch.randn(shape)
        assert block(x).shape == shape and block.last_attention is None
        _check_channels_last(block, x, torch.channels_last)
    block.record_attention = True
    block(torch.randn(2, 8, 3, 4))
    att = block.last_attention
    assert att.shape == (2, 12, 12) and att.dtype == torch.float32
    assert not att.requires_grad


@pytest.mark.parametrize('mode', MODES)
def test_clip_channels_last_3d_and_sub_sampled_recording(mode):
    block = randomize_weights_(
        NonLocal(8, mode=mode, dimension=3, sub_sample=True))
    x = torch.randn(2, 8, 3, 4, 6)
    _check_channels_last(block, x, torch.channels_last_3d)
    block.record_attention = True
    block(x)
    assert block.last_attention.shape == (2, 72, 3 * 2 * 3)


@pytest.mark.parametrize('mode, dimension, sub_sample',
                         [('gaussian', 2, False),
                          ('embedded_gaussian', 2, False),
                          ('embedded_gaussian', 3, True)])
def test_explicit_path_for_wide_embeddings(mode, dimension, sub_sample,
                                           monkeypatch):
    """Above SDPA_MAX_DIM the explicit path runs; same numbers."""
    block = randomize_weights_(
        NonLocal(8, mode=mode, dimension=dimension,
                 sub_sample=sub_sample)).double()
    x = torch.randn(SHAPES[dimension], dtype=torch.double, requires_grad=True)
    fused = block(x)
    monkeypatch.setattr(non_local, 'SDPA_MAX_DIM', 2)
    explicit = block(x)
    torch.testing.assert_close(explicit, fused, rtol=1e-10, atol=1e-10)
    g1, = torch.autograd.grad(fused.square().sum(), x)
    g2, = torch.autograd.grad(explicit.square().sum(), x)
    torch.testing.assert_close(g2, g1, rtol=1e-10, atol=1e-10)


class MaxNumel(TorchDispatchMode):
    """Largest tensor any op produces."""

    def __init__(self) -> None:
        super().__init__()
        self.max_numel = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in (out if isinstance(out, (tuple, list)) else [out]):
            if isinstance(t, torch.Tensor):
                self.max_numel = max(self.max_numel, t.numel())
        return out


def test_concat_keeps_only_pp_scalars():
    n, c, h, w = 2, 16, 6, 6
    p, r = h * w, 8
    x = torch.randn(n, c, h, w, requires_grad=True)
    ours = randomize_weights_(NonLocal(c, mode='concat'))
    with MaxNumel() as mode:
        ours(x).sum().backward()
    assert mode.max_numel <= max(n * p * p, n * c * p)
    # What we avoid: mmcv's forward alone builds [N, 2R, P, P] (and its
    # backward fails: an in-place division of its ReLU output).
    ref = MMCVNonLocal2d(c, mode='concatenation')
    with MaxNumel() as mode:
        ref(x)
    assert mode.max_numel >= n * 2 * r * p * p


@pytest.mark.parametrize('sub_sample', [False, True])
def test_old_checkpoint_keys_load(sub_sample):
    """Our checkpoints from before mmcv's layout (plain convs: g.weight,
    concat_project.weight, conv_out.bias) load with strict=True, also
    through mmengine's loader and under a prefix."""
    from mmengine.runner.checkpoint import load_state_dict
    new = randomize_weights_(NonLocal(8, mode='concat', sub_sample=sub_sample))
    old_sd = {
        k.replace('.0.conv.', '.').replace('.conv.', '.'): v
        for k, v in new.state_dict().items()
    }
    assert set(old_sd) == {
        f'{m}.{p}'
        for m in ('g', 'theta', 'phi', 'conv_out')
        for p in ('weight', 'bias')
    } | {'concat_project.weight'}
    x = torch.randn(2, 8, 4, 6)
    for loader in ('torch', 'mmengine'):
        block = NonLocal(8, mode='concat', sub_sample=sub_sample)
        parent = torch.nn.Sequential(torch.nn.Identity(), block)
        sd = {f'1.{k}': v for k, v in old_sd.items()}
        if loader == 'torch':
            parent.load_state_dict(sd, strict=True)
        else:
            load_state_dict(parent, sd, strict=True)
        torch.testing.assert_close(block(x), new(x), rtol=0, atol=0)


@pytest.mark.parametrize('kwargs, bad', [
    (dict(mode='concatenate'), "'concatenate'"),
    (dict(ratio=0), '0'),
    (dict(ratio=1 / 16), '0.0625'),
    (dict(dimension=4), '4'),
    (dict(reduction=0), 'reduction.*0'),
    (dict(reduction=2.0), 'reduction.*2.0'),
    (dict(ratio=0.25, reduction=4), 'not both'),
])
def test_bad_args_raise_value_error(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        NonLocal(8, **kwargs)


def test_ratio_and_mmcv_reduction():
    assert NonLocal(8).inter_channels == 4
    assert NonLocal(8, ratio=1 / 4).inter_channels == 2
    assert NonLocal(8, reduction=4).inter_channels == 2
    assert NonLocal(3, reduction=4).inter_channels == 1  # mmcv's max(., 1)
    assert NonLocal(8, mode='concat').mode == 'concatenation'


def test_every_mode_has_its_table1_row():
    """Table 1 statistics are keyed by ``block.mode`` (mmcv's spelling)."""
    from gcnet_plugin.analysis.attention_statistics import PAPER_TABLE1_COCO
    for mode in MODES + ('concat', ):
        assert NonLocal(8, mode=mode).mode in PAPER_TABLE1_COCO
