"""PointwiseConv: a 1x1 Conv2d's values, gradients and state dict."""
import pytest
import torch
from mmcv.cnn import build_conv_layer

from gcnet_plugin.models.layers import PointwiseConv


@pytest.mark.parametrize('bias', [True, False])
def test_same_as_conv2d(bias):
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(6, 3, 1, bias=bias)
    ours = build_conv_layer(dict(type='PointwiseConv'), 6, 3, 1, bias=bias)
    assert isinstance(ours, PointwiseConv)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 6, 5, 7)
    grad = torch.randn(4, 3, 5, 7)
    results = []
    for conv in (ref, ours):
        xi = x.clone().requires_grad_()
        out = conv(xi)
        out.backward(grad)
        results.append((out, xi.grad, *(p.grad for p in conv.parameters())))
    for theirs, mine in zip(*results):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_other_kernels_are_refused():
    with pytest.raises(ValueError, match='kernel_size=3'):
        PointwiseConv(4, 4, 3)
