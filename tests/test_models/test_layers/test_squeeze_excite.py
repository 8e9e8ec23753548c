"""SE and SNL presets: same code as ContextBlock, other defaults."""
import torch

from gcnet_plugin.models.layers import SE, ContextBlock, SimplifiedNonLocal
from gcnet_plugin.models.random_weights import randomize_weights_


def test_se_is_avg_pool_bottleneck_sigmoid_scale():
    torch.manual_seed(0)
    se = SE(32, ratio=1 / 8)
    assert isinstance(se, ContextBlock) and se._abbr_ == 'se_block'
    assert sorted(se.state_dict()) == [
        'channel_mul_conv.0.bias', 'channel_mul_conv.0.weight',
        'channel_mul_conv.3.bias', 'channel_mul_conv.3.weight'
    ]
    x = torch.randn(2, 32, 4, 6)
    torch.testing.assert_close(se(x), x * 0.5, rtol=0, atol=0)  # at init
    randomize_weights_(se, std=1.0)
    conv1, conv2 = se.channel_mul_conv[0], se.channel_mul_conv[3]
    w1, b1 = conv1.weight[:, :, 0, 0], conv1.bias
    w2, b2 = conv2.weight[:, :, 0, 0], conv2.bias
    squeeze = x.mean(dim=(2, 3))  # [N, C]
    excite = torch.sigmoid(torch.relu(squeeze @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(se(x), x * excite[:, :, None, None])


def test_snl_is_one_conv_att_add():
    torch.manual_seed(0)
    snl = SimplifiedNonLocal(16)
    assert isinstance(snl, ContextBlock) and snl._abbr_ == 'snl_block'
    assert snl.channel_add_conv[0].weight.shape == (16, 16, 1, 1)
    assert len(snl.channel_add_conv) == 1 and snl.channel_mul_conv is None
    x = torch.randn(1, 16, 5, 4)
    torch.testing.assert_close(snl(x), x, rtol=0, atol=0)
    randomize_weights_(snl, std=1.0)
    # eq. (3): z_i = x_i + W_v sum_j softmax(W_k x)_j x_j
    alpha = snl.conv_mask(x).flatten(1).softmax(-1)  # [N, P]
    context = torch.einsum('np,ncp->nc', alpha, x.flatten(2))
    wv = snl.channel_add_conv[0]
    delta = context @ wv.weight[:, :, 0, 0].T + wv.bias  # [N, C]
    expected = x + delta[:, :, None, None]
    torch.testing.assert_close(snl(x), expected)
    assert ContextBlock(16, ratio=None).state_dict().keys() == \
        snl.state_dict().keys()
