"""GC block: eq. (4)/(5) transcription, mmcv parity, init, shapes, errors."""
import math

import pytest
import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock
from mmcv.cnn import build_plugin_layer
from mmdet.models.backbones import ResNet

from gcnet_plugin.models.layers import AttentionPool, ContextBlock
from gcnet_plugin.models.random_weights import randomize_weights_


def reference_gc(block: ContextBlock, x: torch.Tensor) -> torch.Tensor:
    """Eq. (4) with the block's weights, written out position by position.

    alpha_j = exp(W_k x_j + b) / sum_m exp(W_k x_m + b) (or 1/P),
    context = sum_j alpha_j x_j, delta = W2 act(LN(W1 context + b1)) + b2,
    z_i = x_i * sigmoid(delta_mul) + delta_add.
    """
    n, c, h, w = x.shape
    positions = [(i, j) for i in range(h) for j in range(w)]
    out = torch.empty_like(x)
    for b in range(n):
        feats = [x[b, :, i, j] for i, j in positions]
        if block.pooling_type == 'att':
            wk = block.conv_mask.weight.reshape(c)
            bk = block.conv_mask.bias.reshape(())
            logits = torch.stack([wk @ f + bk for f in feats])
            alpha = torch.exp(logits - logits.max())
            alpha = alpha / alpha.sum()
        else:
            alpha = torch.full((len(feats), ), 1.0 / len(feats), dtype=x.dtype)
        context = sum(a * f for a, f in zip(alpha, feats))

        def delta(seq: torch.nn.Sequential) -> torch.Tensor:
            conv1 = seq[0]
            t = conv1.weight.reshape(conv1.out_channels, c) @ context
            t = t + conv1.bias
            if block.ratio is None:
                return t
            if block.norm_cfg is not None:
                ln = seq[1]
                mean = t.mean()
                var = ((t - mean)**2).mean()
                t = (t - mean) / torch.sqrt(var + ln.eps)
                t = t * ln.weight.reshape(-1) + ln.bias.reshape(-1)
            if block.act_cfg is not None:
                t = torch.clamp(t, min=0)
            conv2 = seq[3]
            return conv2.weight.reshape(c, -1) @ t + conv2.bias

        scale = (1 / (1 + torch.exp(-delta(block.channel_mul_conv)))
                 if block.channel_mul_conv is not None else 1.0)
        shift = (
            delta(block.channel_add_conv)
            if block.channel_add_conv is not None else 0.0)
        for i, j in positions:
            out[b, :, i, j] = x[b, :, i, j] * scale + shift
    return out


# Table 2 (d), (e), (f) rows and the two-fusion case, as constructor args.
VARIANTS = {
    'w/o ratio': dict(ratio=None),
    'r16': dict(ratio=1 / 16, norm_cfg=None, act_cfg=None),
    'r16+ReLU': dict(ratio=1 / 16, norm_cfg=None),
    'r16+LN+ReLU': dict(ratio=1 / 16),
    'ratio 4': dict(ratio=1 / 4),
    'ratio 32': dict(ratio=1 / 32),
    'avg+scale': dict(pooling_type='avg', fusion_types=('channel_mul', )),
    'avg+add': dict(pooling_type='avg'),
    'att+scale': dict(fusion_types=('channel_mul', )),
    'att+add+scale': dict(fusion_types=('channel_add', 'channel_mul')),
}


@pytest.mark.parametrize('name', list(VARIANTS))
def test_matches_equation(name):
    block = randomize_weights_(ContextBlock(32, **VARIANTS[name])).double()
    x = torch.randn(2, 32, 3, 5, dtype=torch.double)
    expected = reference_gc(block, x)
    with torch.no_grad():  # plain path
        plain = block(x)
    fused = block(x.clone().requires_grad_())  # fused autograd path
    torch.testing.assert_close(plain, expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(fused, expected, rtol=1e-10, atol=1e-10)


def test_transform_shapes_per_variant():
    c = 64
    assert ContextBlock(
        c, ratio=None).channel_add_conv[0].weight.shape == (c, c, 1, 1)
    r16 = ContextBlock(c, norm_cfg=None, act_cfg=None).channel_add_conv
    assert [type(m).__name__
            for m in r16] == ['Conv2d', 'Identity', 'Identity', 'Conv2d']
    assert r16[0].weight.shape == (4, c, 1, 1)
    assert ContextBlock(c, ratio=1 / 4).channel_add_conv[0].out_channels == 16


@pytest.mark.parametrize('fusion', [('channel_add', ), ('channel_mul', ),
                                    ('channel_add', 'channel_mul')])
@pytest.mark.parametrize('pooling', ['att', 'avg'])
@pytest.mark.parametrize('channels_last', [False, True])
def test_same_as_mmcv(fusion, pooling, channels_last):
    torch.manual_seed(0)
    ref = randomize_weights_(MMCVContextBlock(32, 1 / 8, pooling, fusion))
    ours = ContextBlock(32, 1 / 8, pooling, fusion)
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert all(our_sd[k].shape == v.shape for k, v in ref_sd.items())
    ours.load_state_dict(ref_sd, strict=True)

    x = torch.randn(2, 32, 6, 7)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    grad = torch.randn(2, 32, 6, 7)
    results = []
    for block in (ref, ours):
        xi = x.clone().requires_grad_()
        out = block(xi)
        out.backward(grad)
        results.append((out, xi.grad, [p.grad for p in block.parameters()]))
    (o1, g1, p1), (o2, g2, p2) = results
    for ours_t, ref_t in zip([o2, g2, *p2], [o1, g1, *p1]):
        # fp32 sums in another order: errors ~1e-6 of the largest entry
        scale = max(1.0, ref_t.abs().max().item())
        torch.testing.assert_close(ours_t, ref_t, rtol=1e-5, atol=1e-5 * scale)
    if channels_last:
        assert g2.is_contiguous(memory_format=torch.channels_last)


def test_fused_backward_gradcheck():
    """The hand-written backward of AttentionPool, x and W_k, both layouts."""
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(1, 4, 1, 1, dtype=torch.double, generator=gen)
    bias = torch.randn(1, dtype=torch.double, generator=gen)
    probe = torch.randn(4, dtype=torch.double, generator=gen)

    def fn(x, weight, bias):
        out, context, _ = AttentionPool.apply(x, weight, bias, x.dtype)
        # non-linear in context so that every gradient term is exercised
        return out * 0.5 + torch.sin(context * probe.view(1, 4, 1, 1))

    for layout in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(2, 4, 2, 3, dtype=torch.double, generator=gen)
        x = x.to(memory_format=layout).requires_grad_()
        assert torch.autograd.gradcheck(
            fn, (x, weight.requires_grad_(), bias.requires_grad_()),
            fast_mode=True)


def test_fused_backward_computes_only_the_gradients_needed():
    """Frozen W_k or an input without grad: the other gradients are those
    of the full backward (that dL/dx is then not formed at all is checked
    in tests/test_profiling)."""
    block = randomize_weights_(ContextBlock(32))
    x = torch.randn(2, 32, 5, 6)
    grad = torch.randn(2, 32, 5, 6)

    def grads(x_grad: bool, w_grad: bool):
        block.zero_grad(set_to_none=True)
        block.conv_mask.requires_grad_(w_grad)
        xi = x.clone().requires_grad_(x_grad)
        block(xi).backward(grad)
        return xi.grad, block.conv_mask.weight.grad

    full_x, full_w = grads(True, True)
    only_w = grads(False, True)
    only_x = grads(True, False)
    block.conv_mask.requires_grad_(True)
    assert only_w[0] is None and only_x[1] is None
    torch.testing.assert_close(only_w[1], full_w)
    torch.testing.assert_close(only_x[0], full_x)


@pytest.mark.parametrize('fusion', [('channel_add', ), ('channel_mul', )])
def test_init_and_gradients_after_one_step(fusion):
    torch.manual_seed(0)
    block = ContextBlock(16, ratio=1 / 4, fusion_types=fusion)
    x = torch.randn(2, 16, 5, 6)
    expected = x if fusion == ('channel_add', ) else x * 0.5
    torch.testing.assert_close(block(x), expected, rtol=0, atol=0)

    opt = torch.optim.SGD(block.parameters(), lr=0.1)
    target = torch.randn(2, 16, 5, 6)
    for _ in range(2):
        opt.zero_grad()
        ((block(x) - target)**2).mean().backward()
        opt.step()
    for name, p in block.named_parameters():
        if name == 'conv_mask.bias':  # softmax is shift-invariant
            assert p.grad.abs().max() < 1e-6
        else:
            assert p.grad.abs().max() > 0, name


def tiny_resnet(plugin_type, **kwargs) -> ResNet:
    return ResNet(
        depth=50,
        base_channels=8,
        stem_channels=8,
        norm_eval=False,
        **kwargs,
        plugins=[
            dict(
                cfg=dict(type=plugin_type, ratio=1 / 4),
                stages=(False, True, True, True),
                position='after_conv3')
        ])


def test_identity_survives_backbone_init_weights():
    model = tiny_resnet('ContextBlock')
    model.init_weights()  # Kaiming on every Conv2d, then our init_weights
    blocks = [m for m in model.modules() if isinstance(m, ContextBlock)]
    assert len(blocks) == 4 + 6 + 3
    x = torch.randn(1, blocks[0].in_channels, 4, 5)
    for block in blocks:
        assert block.channel_add_conv[-1].weight.abs().max() == 0
        xb = torch.randn(1, block.in_channels, 4, 5)
        torch.testing.assert_close(block(xb), xb, rtol=0, atol=0)
    # What the test guards against: mmcv's block loses its zero-init there.
    mmcv_model = tiny_resnet(MMCVContextBlock)
    mmcv_model.init_weights()
    mmcv_blocks = [
        m for m in mmcv_model.modules() if isinstance(m, MMCVContextBlock)
    ]
    assert max(b.channel_add_conv[-1].weight.abs().max()
               for b in mmcv_blocks) > 0
    del x


def test_gradient_checkpointing_in_backbone():
    """ResNet's with_cp re-runs the block in backward: same gradients.

    Up to rounding: with_cp's first pass runs without grad (plain path),
    its re-run with grad (fused path), and 13 blocks amplify the last bits.
    """
    torch.manual_seed(0)
    plain = tiny_resnet('ContextBlock')
    for m in plain.modules():
        if isinstance(m, ContextBlock):
            randomize_weights_(m)
    cp = tiny_resnet('ContextBlock', with_cp=True)
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for model in (plain, cp):
        xi = x.clone().requires_grad_()
        sum(o.square().sum() for o in model(xi)).backward()
        grads.append(xi.grad)
    scale = grads[0].abs().max().item()
    torch.testing.assert_close(
        grads[1], grads[0], rtol=1e-3, atol=1e-3 * scale)


def test_plugin_name_is_abbr():
    name, layer = build_plugin_layer(
        dict(type=ContextBlock, ratio=1 / 4), postfix=3, in_channels=16)
    assert name == 'context_block3' and isinstance(layer, ContextBlock)


@pytest.mark.parametrize('shape', [(1, 16, 7, 3), (3, 16, 1, 1),
                                   (1, 16, 2, 9)])
def test_odd_shapes_and_channels_last(shape):
    block = randomize_weights_(ContextBlock(16, ratio=1 / 4))
    x = torch.randn(shape)
    out = block(x)
    assert out.shape == shape
    xc = x.to(memory_format=torch.channels_last).requires_grad_()
    out_c = block(xc)
    torch.testing.assert_close(out_c, out, rtol=1e-5, atol=1e-6)
    out_c.sum().backward()
    assert torch.isfinite(xc.grad).all()


def test_record_attention():
    block = randomize_weights_(ContextBlock(16, ratio=1 / 4))
    x = torch.randn(2, 16, 3, 5)
    block(x)
    assert block.last_attention is None
    block.record_attention = True
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            block(x.clone().requires_grad_(grad))
        att = block.last_attention
        assert att.shape == (2, 15) and att.dtype == torch.float32
        assert not att.requires_grad
        logits = block.conv_mask(x).flatten(1)
        torch.testing.assert_close(att, logits.softmax(-1))
    avg = ContextBlock(16, pooling_type='avg')
    avg.record_attention = True
    avg(x)
    assert avg.last_attention is None


@pytest.mark.parametrize('kwargs, bad', [
    (dict(ratio=0), '0'),
    (dict(ratio=-0.5), '-0.5'),
    (dict(ratio=math.nan), 'nan'),
    (dict(ratio=1 / 64), '0.015625'),
    (dict(ratio=True), 'True'),
    (dict(pooling_type='max'), "'max'"),
    (dict(fusion_types=('channel_sub', )), "'channel_sub'"),
    (dict(fusion_types=()), '()'),
    (dict(fusion_types='channel_add'), "'channel_add'"),
    (dict(fusion_types=('channel_add', 'channel_add')), "'channel_add'"),
    (dict(norm_cfg=dict(type='BN')), "'BN'"),
])
def test_bad_args_raise_value_error(kwargs, bad):
    with pytest.raises(
            ValueError, match=bad.replace('(', r'\(').replace(')', r'\)')):
        ContextBlock(32, **kwargs)


def test_bool_channels_are_refused():
    with pytest.raises(ValueError, match='in_channels.*True'):
        ContextBlock(True)


def test_mmcv_context_block_test_ported():
    """mmcv's tests/test_cnn/test_context_block.py against ours (ours
    raise ValueError where mmcv asserts)."""
    for kwargs in (dict(pooling_type='unsupport_type'),
                   dict(fusion_types='unsupport_type'),
                   dict(fusion_types=('unsupport_type', ))):
        with pytest.raises(ValueError, match='unsupport_type'):
            ContextBlock(16, 1. / 4, **kwargs)
    imgs = torch.randn(2, 16, 20, 20)
    block = ContextBlock(16, 1. / 4, pooling_type='att')
    assert block(imgs).shape == imgs.shape
    assert block.conv_mask.in_channels == 16
    assert block.conv_mask.out_channels == 1
    block = ContextBlock(16, 1. / 4, pooling_type='avg')
    assert block(imgs).shape == imgs.shape
    assert isinstance(block.avg_pool, torch.nn.AdaptiveAvgPool2d)
    assert block.avg_pool.output_size == 1
    for fusion in [('channel_add', ), ('channel_mul', ),
                   ('channel_add', 'channel_mul')]:
        block = ContextBlock(16, 1. / 4, fusion_types=fusion)
        assert block(imgs).shape == imgs.shape
        assert (block.channel_add_conv is not None) == ('channel_add'
                                                        in fusion)
        assert (block.channel_mul_conv is not None) == ('channel_mul'
                                                        in fusion)
