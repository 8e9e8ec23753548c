"""AveragePool and ChannelScale: the fused backwards of avg pooling and
scale fusion (SE, Table 2 (f)), against autograd."""
import pytest
import torch

from gcnet_plugin.models.layers.average_pool import AveragePool
from gcnet_plugin.models.layers.channel_scale import (MIN_BMM_POSITIONS,
                                                      ChannelScale,
                                                      channel_dot)
from gcnet_plugin.models.random_weights import randomize_weights_

LAYOUTS = [torch.contiguous_format, torch.channels_last]


@pytest.mark.parametrize('layout', LAYOUTS)
def test_average_pool_gradcheck(layout):
    probe = torch.randn(1, 3, 1, 1, dtype=torch.double)

    def fn(x):
        out, mean = AveragePool.apply(x)
        # both outputs reach the loss, non-linearly in the mean
        return out * 0.3 + torch.sin(mean * probe)

    x = torch.randn(2, 3, 4, 5, dtype=torch.double)
    x = x.to(memory_format=layout).requires_grad_()
    assert torch.autograd.gradcheck(fn, (x, ))


def test_average_pool_with_only_one_output_used():
    x = torch.randn(2, 3, 4, 5, requires_grad=True)
    _, mean = AveragePool.apply(x)
    mean.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 1 / 20))


@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('hw', [(4, 5), (MIN_BMM_POSITIONS // 32, 32)])
def test_channel_scale_gradcheck(layout, hw):
    """Both dL/ds paths: the product map (short rows) and the bmm."""
    x = torch.randn(2, 3, *hw, dtype=torch.double)
    x = x.to(memory_format=layout).requires_grad_()
    s = torch.randn(2, 3, 1, 1, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(ChannelScale.apply, (x, s), fast_mode=True)


def test_channel_scale_keeps_layout_and_skips_unneeded_grads():
    x = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    s = torch.randn(2, 3, 1, 1, requires_grad=True)
    out = ChannelScale.apply(x, s)
    assert out.is_contiguous(memory_format=torch.channels_last)
    grad = torch.randn_like(out)
    out.backward(grad)
    assert x.grad is None
    torch.testing.assert_close(s.grad,
                               (grad * x).sum(dim=(2, 3), keepdim=True))


@pytest.mark.parametrize('dtypes', [(torch.float32, torch.float32),
                                    (torch.float16, torch.float32),
                                    (torch.bfloat16, torch.bfloat16)])
def test_channel_scale_dtypes_follow_multiplication(dtypes):
    """Type promotion as ``x * s``; each gradient in its input's dtype."""
    x = torch.randn(2, 3, 4, 5, dtype=dtypes[0], requires_grad=True)
    s = torch.rand(2, 3, 1, 1, dtype=dtypes[1], requires_grad=True)
    out = ChannelScale.apply(x, s)
    assert out.dtype == (x * s).dtype
    out.float().sum().backward()
    assert x.grad.dtype == x.dtype and s.grad.dtype == s.dtype
    expected = x.detach().float().sum(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(s.grad.float(), expected, rtol=2e-2, atol=2e-2)


def test_channel_dot_paths_agree():
    g = torch.randn(2, 8, 48, 48)  # P = 2304: the bmm path
    x = torch.randn(2, 8, 48, 48)
    plain = (g * x).sum(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(channel_dot(g, x), plain, rtol=1e-5, atol=1e-4)
    g, x = g[:, :, :8, :8].contiguous(), x[:, :, :8, :8].contiguous()
    torch.testing.assert_close(  # P = 64: the product-map path
        channel_dot(g, x), (g * x).sum(dim=(2, 3), keepdim=True))
    cl = torch.channels_last
    torch.testing.assert_close(
        channel_dot(g.to(memory_format=cl), x.to(memory_format=cl)),
        (g * x).sum(dim=(2, 3), keepdim=True))


def test_avg_scale_matches_mmcv_on_a_long_map():
    """The bmm path inside the block: avg + scale (SE's pooling and
    fusion, with mmcv's LayerNorm) equals mmcv's."""
    from mmcv.cnn import ContextBlock as MMCVContextBlock

    from gcnet_plugin.models.layers import ContextBlock
    ref = randomize_weights_(
        MMCVContextBlock(32, 1 / 8, 'avg', ('channel_mul', )))
    ours = ContextBlock(32, 1 / 8, 'avg', ('channel_mul', ))
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 32, MIN_BMM_POSITIONS // 32, 32)
    grad = torch.randn_like(x)
    results = []
    for block in (ref, ours):
        xi = x.clone().requires_grad_()
        out = block(xi)
        out.backward(grad)
        results.append([out, xi.grad] + [p.grad for p in block.parameters()])
    for a, b in zip(*results):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-4)
