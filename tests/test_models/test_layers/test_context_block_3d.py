"""GC family on clips [N, C, T, H, W]: the 2-D block over T * H * W."""
import pytest
import torch

from gcnet_plugin.models.layers import SE, ContextBlock, SimplifiedNonLocal
from gcnet_plugin.models.random_weights import randomize_weights_
from gcnet_plugin.profiling import block_traffic

R4 = dict(ratio=1 / 4)
BLOCKS = dict(
    gc=(ContextBlock, R4),
    gc_avg_mul=(ContextBlock,
                dict(R4, pooling_type='avg', fusion_types=('channel_mul', ))),
    gc_add_mul=(ContextBlock,
                dict(R4, fusion_types=('channel_add', 'channel_mul'))),
    snl=(SimplifiedNonLocal, {}),
    se=(SE, R4))


def _build(name: str) -> ContextBlock:
    cls, kwargs = BLOCKS[name]
    return cls(16, **kwargs)


def _as_map(x: torch.Tensor) -> torch.Tensor:
    """[N, C, T, H, W] -> [N, C, T * H, W], a copy (not the block's view)."""
    n, c, t, h, w = x.shape
    return x.detach().clone().reshape(n, c, t * h, w)


@pytest.mark.parametrize('name', list(BLOCKS))
@pytest.mark.parametrize('layout',
                         [torch.contiguous_format, torch.channels_last_3d])
def test_clip_equals_map_of_t_times_h_rows(name, layout):
    """Outputs, dL/dx and parameter gradients of a clip are those of the
    2-D block on the clip reshaped to [N, C, T * H, W]."""
    block = randomize_weights_(_build(name)).double()
    x = torch.randn(2, 16, 3, 4, 5, dtype=torch.double)
    x = x.to(memory_format=layout)
    grad = torch.randn(2, 16, 3, 4, 5, dtype=torch.double)
    results = []
    for inp, g in ((x, grad), (_as_map(x), _as_map(grad))):
        with torch.no_grad():
            plain = block(inp)
        block.zero_grad(set_to_none=True)
        inp = inp.clone().requires_grad_()
        out = block(inp)
        out.backward(g)
        flat = [t.reshape(2, 16, -1) for t in (plain, out, inp.grad)]
        results.append(flat + [p.grad for p in block.parameters()])
    for clip_t, map_t in zip(*results):
        torch.testing.assert_close(clip_t, map_t, rtol=1e-12, atol=1e-12)
    out = block(x.clone().requires_grad_())
    assert out.shape == x.shape
    assert out.is_contiguous(memory_format=layout)


def test_gradcheck_on_a_clip():
    """Fused backward on [N, C, T, H, W]: x, W_k and the transform."""
    torch.manual_seed(0)
    block = randomize_weights_(
        ContextBlock(
            4, ratio=1 / 2,
            fusion_types=('channel_add', 'channel_mul'))).double()
    names = [
        'conv_mask.weight', 'channel_add_conv.0.weight',
        'channel_mul_conv.3.weight'
    ]
    params = dict(block.named_parameters())

    def fn(x, *weights):
        params.update(zip(names, weights))
        return torch.func.functional_call(block, params, (x, ))

    x = torch.randn(2, 4, 2, 3, 2, dtype=torch.double, requires_grad=True)
    weights = [params[k].detach().clone().requires_grad_() for k in names]
    assert torch.autograd.gradcheck(fn, (x, *weights))


@pytest.mark.parametrize('name', list(BLOCKS))
def test_zero_init_on_a_clip(name):
    block = _build(name)
    x = torch.randn(2, 16, 3, 4, 5)
    # sigmoid(0) = 0.5 where there is a scale fusion, + 0 where an add
    expected = x * 0.5 if 'channel_mul' in block.fusion_types else x
    torch.testing.assert_close(block(x), expected, rtol=0, atol=0)
    torch.testing.assert_close(
        block(x.clone().requires_grad_()), expected, rtol=0, atol=0)


def test_record_attention_over_all_positions_and_script():
    block = randomize_weights_(ContextBlock(16, ratio=1 / 4))
    x = torch.randn(2, 16, 3, 4, 5)
    block.record_attention = True
    out = block(x)
    att = block.last_attention
    assert att.shape == (2, 60)
    logits = block.conv_mask.weight.view(16) @ x.flatten(2)  # [N, P]
    torch.testing.assert_close(att, logits.softmax(-1))
    block.record_attention = False
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.script(block)(x), out)


@pytest.mark.parametrize('shape', [(2, 16, 5), (1, 2, 16, 3, 4, 5)])
def test_other_ranks_raise_value_error(shape):
    with pytest.raises(ValueError, match=r'got shape .*' + str(shape[-1])):
        ContextBlock(16)(torch.randn(shape))


@pytest.mark.parametrize('name', list(BLOCKS))
def test_clip_moves_the_bytes_of_its_map(name):
    """The clip is viewed, never copied: forward and fused backward move
    exactly the bytes of the 2-D block on [N, C, T * H, W]."""
    block = _build(name)
    clip = block_traffic(block, (2, 16, 4, 32, 20))
    as_map = block_traffic(block, (2, 16, 4 * 32, 20))
    assert [op.name for op in clip.ops] == [op.name for op in as_map.ops]
    assert clip.total == as_map.total
