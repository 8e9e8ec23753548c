"""Mixed precision with large logits; TorchScript, tracing, torch.compile."""
import pytest
import torch

from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal,
                                        SimplifiedNonLocal)
from gcnet_plugin.models.layers.non_local import MODES
from gcnet_plugin.models.random_weights import randomize_weights_


def _autocast_runs(dtype: torch.dtype) -> bool:
    try:
        with torch.autocast('cpu', dtype=dtype):
            torch.matmul(torch.ones(2, 2), torch.ones(2, 2))
        return True
    except RuntimeError:
        return False


AMP_DTYPES = [
    pytest.param(
        d,
        marks=pytest.mark.skipif(
            not _autocast_runs(d), reason=f'no CPU autocast for {d}'))
    for d in (torch.bfloat16, torch.float16)
]


@pytest.mark.parametrize('amp', AMP_DTYPES)
@pytest.mark.parametrize('input_dtype', ['amp', torch.float32])
def test_gc_large_logits_under_autocast(amp, input_dtype):
    torch.manual_seed(0)
    block = ContextBlock(16, ratio=1 / 4)
    with torch.no_grad():
        block.conv_mask.weight.fill_(1.0)
        block.channel_add_conv[-1].weight.normal_()
    x = torch.randn(2, 16, 5, 6) * 500
    logits = block.conv_mask(x).abs().max()
    assert 1e3 < logits < 1e5, logits  # logits ~1e4, as asked
    x = x.to(amp if input_dtype == 'amp' else input_dtype).requires_grad_()
    block.record_attention = True
    with torch.autocast('cpu', dtype=amp):
        out = block(x)
    # fp16 logits of 1e4 would make exp() overflow: the softmax is fp32
    att = block.last_attention
    assert att.dtype == torch.float32 and torch.isfinite(att).all()
    torch.testing.assert_close(att.sum(-1), torch.ones(2))
    assert out.dtype == x.dtype and torch.isfinite(out).all()
    out.float().square().mean().backward()
    assert torch.isfinite(x.grad).all()
    for p in block.parameters():
        assert torch.isfinite(p.grad).all()
    with torch.no_grad(), torch.autocast('cpu', dtype=amp):  # plain path
        assert torch.isfinite(block(x)).all()


@pytest.mark.parametrize('amp', AMP_DTYPES)
@pytest.mark.parametrize('grad', [False, True])
def test_softmax_is_fp32_under_autocast(amp, grad):
    """An fp16/bf16 softmax would sum to 1 only within ~1e-3 / 1e-2."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 9, 11, requires_grad=grad)
    gc, nl = ContextBlock(16), NonLocal(16)
    for block in (gc, nl):
        block.record_attention = True
        with torch.set_grad_enabled(grad), torch.autocast('cpu', dtype=amp):
            block(x)
        att = block.last_attention
        assert att.max() < 0.5  # spread out, not one-hot
        torch.testing.assert_close(
            att.sum(-1), torch.ones(att.shape[:-1]), rtol=0, atol=2e-6)


def _scale_to_logits(block: NonLocal, x: torch.Tensor,
                     target: float) -> torch.Tensor:
    """Rescale x so that the largest |pre-normalisation logit| ~ target."""
    with torch.no_grad():
        if block.mode == 'gaussian':
            q = k = x.flatten(2).transpose(1, 2)
        else:
            q = block.theta(x).flatten(2).transpose(1, 2)
            k = block.phi(x).flatten(2).transpose(1, 2)
        if block.mode == 'concatenation':
            w = block.concat_project.conv.weight.view(2, -1)
            big = ((q @ w[0]).abs().max() + (k @ w[1]).abs().max())
            return x * (target / big)
        big = (q @ k.transpose(1, 2)).abs().max() * block.scale
        return x * (target / big)**0.5


@pytest.mark.parametrize('amp', AMP_DTYPES)
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('record', [False, True])
def test_nl_large_logits_under_autocast(amp, mode, record):
    torch.manual_seed(0)
    block = NonLocal(16, mode=mode)
    with torch.no_grad():
        for name, p in block.named_parameters():
            p.normal_(std=0.05 if name.startswith(('g.', 'conv_out')) else 1)
    x = _scale_to_logits(block, torch.randn(2, 16, 5, 6), 1e4)
    with torch.no_grad():  # |W_v x| ~ 1, so that y = sum_j w_ij W_v x_j
        # fits fp16 (dot, concat)
        block.g.conv.weight /= block.g(x).abs().max()
    x.requires_grad_()
    block.record_attention = record
    with torch.autocast('cpu', dtype=amp):
        out = block(x)
    assert torch.isfinite(out).all()
    out.float().square().mean().backward()
    assert torch.isfinite(x.grad).all()
    if record:
        att = block.last_attention
        assert att.dtype == torch.float32 and torch.isfinite(att).all()


@pytest.mark.parametrize('cls', [ContextBlock, SimplifiedNonLocal, SE])
def test_torchscript_and_trace(cls):
    torch.manual_seed(0)
    block = randomize_weights_(cls(16).eval())
    x = torch.randn(2, 16, 5, 6)
    scripted = torch.jit.script(block)
    with torch.no_grad():
        traced = torch.jit.trace(block, x)
        y = torch.randn(1, 16, 3, 7)  # other batch and map size
        expected = block(y)
        torch.testing.assert_close(scripted(y), expected)
        torch.testing.assert_close(traced(y), expected)


@pytest.mark.parametrize('kwargs, shape', [
    ({}, (2, 16, 5, 6)),
    (dict(dimension=3, sub_sample=True, norm_cfg=dict(type='BN3d')),
     (2, 16, 3, 4, 6)),
])
def test_nonlocal_trace(kwargs, shape):
    torch.manual_seed(0)
    block = randomize_weights_(NonLocal(16, **kwargs).eval())
    with torch.no_grad():
        traced = torch.jit.trace(block, torch.randn(shape))
        y = torch.randn(shape)
        torch.testing.assert_close(traced(y), block(y))


def test_onnx_export(tmp_path):
    pytest.importorskip('onnx')
    block = ContextBlock(16).eval()
    torch.onnx.export(block, (torch.randn(1, 16, 5, 6), ),
                      str(tmp_path / 'gc.onnx'))
    assert (tmp_path / 'gc.onnx').stat().st_size > 0


@pytest.mark.slow
def test_torch_compile_forward_backward():
    torch.manual_seed(0)
    block = randomize_weights_(ContextBlock(16, ratio=1 / 4))
    compiled = torch.compile(block)
    x = torch.randn(2, 16, 5, 6)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out1, out2 = block(x1), compiled(x2)
    torch.testing.assert_close(out2, out1)
    out1.square().sum().backward()
    out2.square().sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)
