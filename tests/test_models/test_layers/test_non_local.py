"""NonLocal: eq. (1) transcription for the four modes, init, memory, mmcv."""
import pytest
import torch
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from torch.utils._python_dispatch import TorchDispatchMode

from gcnet_plugin.models.layers import NonLocal, non_local
from gcnet_plugin.models.layers.non_local import MODES
from gcnet_plugin.models.random_weights import randomize_weights_


def reference_nl(block: NonLocal, x: torch.Tensor) -> tuple:
    """Eq. (1) and section 3.1, one query i and one key j at a time.

    Returns z and w ([N, P, P]).
    """

    def lin(conv: torch.nn.Conv2d, v: torch.Tensor) -> torch.Tensor:
        out = conv.weight.reshape(conv.out_channels, -1) @ v
        return out if conv.bias is None else out + conv.bias

    n, c, h, w = x.shape
    p = h * w
    feats = x.reshape(n, c, p)
    z = torch.empty_like(feats)
    weights = torch.empty(n, p, p, dtype=x.dtype)
    for b in range(n):
        xs = [feats[b, :, j] for j in range(p)]
        values = [lin(block.g, xj) for xj in xs]  # W_v x_j
        if block.mode != 'gaussian':
            thetas = [lin(block.theta, xj) for xj in xs]  # W_q x_j
            phis = [lin(block.phi, xj) for xj in xs]  # W_k x_j
        for i in range(p):
            if block.mode == 'gaussian':
                f = torch.stack([torch.exp(xs[i] @ xj) for xj in xs])
                wi = f / f.sum()
            elif block.mode == 'embedded_gaussian':
                s = block.inter_channels**-0.5 if block.use_scale else 1.0
                f = torch.stack(
                    [torch.exp(s * (thetas[i] @ pj)) for pj in phis])
                wi = f / f.sum()
            elif block.mode == 'dot_product':
                wi = torch.stack([thetas[i] @ pj for pj in phis]) / p
            else:  # concat: ReLU(w . [theta_i, phi_j]) / P
                wc = block.concat_project.weight.reshape(-1)
                wi = torch.stack([
                    torch.clamp(wc @ torch.cat([thetas[i], pj]), min=0)
                    for pj in phis
                ]) / p
            weights[b, i] = wi
            y = sum(wij * vj for wij, vj in zip(wi, values))
            z[b, :, i] = xs[i] + lin(block.conv_out, y)
    return z.reshape(n, c, h, w), weights


CASES = [(m, True) for m in MODES] + [('embedded_gaussian', False)]


@pytest.mark.parametrize('mode, use_scale', CASES)
def test_matches_equation(mode, use_scale):
    block = randomize_weights_(NonLocal(8, mode=mode,
                                        use_scale=use_scale)).double()
    x = torch.randn(2, 8, 3, 4, dtype=torch.double) * 0.5
    z_ref, w_ref = reference_nl(block, x)
    torch.testing.assert_close(block(x), z_ref, rtol=1e-9, atol=1e-9)
    block.record_attention = True
    torch.testing.assert_close(block(x), z_ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(
        block.last_attention, w_ref, rtol=1e-9, atol=1e-12)
    if mode in ('gaussian', 'embedded_gaussian'):
        torch.testing.assert_close(
            block.last_attention.sum(-1),
            torch.ones(2, 12, dtype=torch.double))


@pytest.mark.parametrize('mode', MODES)
def test_identity_at_init_and_grads_after_one_step(mode):
    torch.manual_seed(0)
    block = NonLocal(8, mode=mode)
    x = torch.randn(2, 8, 4, 3)
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)
    block.conv_out.weight.data.normal_()  # what one step would do
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


@pytest.mark.parametrize('mode', MODES)
def test_shapes_channels_last_and_recording(mode):
    block = randomize_weights_(NonLocal(8, mode=mode))
    for shape in [(1, 8, 5, 3), (2, 8, 1, 7)]:
        x = torch.randn(shape)
        out = block(x)
        assert out.shape == shape and block.last_attention is None
        xc = x.to(memory_format=torch.channels_last).requires_grad_()
        out_c = block(xc)
        torch.testing.assert_close(out_c, out, rtol=1e-5, atol=1e-5)
        out_c.sum().backward()
        assert torch.isfinite(xc.grad).all()
    block.record_attention = True
    block(torch.randn(2, 8, 3, 4))
    att = block.last_attention
    assert att.shape == (2, 12, 12) and att.dtype == torch.float32
    assert not att.requires_grad


@pytest.mark.parametrize('mode', ['gaussian', 'embedded_gaussian'])
def test_explicit_path_for_wide_embeddings(mode, monkeypatch):
    """Above SDPA_MAX_DIM the explicit path runs; same numbers."""
    block = randomize_weights_(NonLocal(8, mode=mode)).double()
    x = torch.randn(2, 8, 3, 4, dtype=torch.double, requires_grad=True)
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


@pytest.mark.parametrize(
    'mode', ['gaussian', 'embedded_gaussian', 'dot_product', 'concat'])
def test_same_as_mmcv_nonlocal2d(mode):
    """Same numbers as mmcv's NonLocal2d with the weights carried over."""
    ref = randomize_weights_(
        MMCVNonLocal2d(8, mode='concatenation' if mode == 'concat' else mode))
    ours = NonLocal(8, mode=mode)
    sd = {k.replace('.conv.', '.'): v for k, v in ref.state_dict().items()}
    ours.load_state_dict(sd, strict=True)
    x = torch.randn(2, 8, 3, 5) * 0.5
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kwargs, bad', [
    (dict(mode='concatenation'), "'concatenation'"),
    (dict(ratio=0), '0'),
    (dict(ratio=1 / 16), '0.0625'),
])
def test_bad_args_raise_value_error(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        NonLocal(8, **kwargs)
