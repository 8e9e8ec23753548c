"""PluginResNet3dSlowOnly: MMAction2's slow-only ResNet3d with plugins.

Reduced-width R50s (``base_channels=4``) on [N, 3, 4, 32, 32] clips.
"""
from typing import Dict

import pytest
import torch
from mmaction.models.backbones.resnet3d import Bottleneck3d
from mmaction.models.backbones.resnet3d_slowonly import ResNet3dSlowOnly
from mmcv.cnn import NonLocal3d as MMCVNonLocal3d
from mmdet.models.backbones import ResNet as ResNet2d
from torch import nn

import gcnet_plugin  # noqa: F401
from gcnet_plugin.models.backbones import (PluginBottleneck3d,
                                           PluginResNet3dSlowOnly)
from gcnet_plugin.models.backbones.plugin_resnet3d_slowonly import \
    BlockFactory3d
from gcnet_plugin.models.layers import (ContextBlock, NonLocal, NonLocal3d,
                                        SimplifiedNonLocal)
from gcnet_plugin.models.random_weights import randomize_weights_

# MMAction2's slow-only R50 (configs/_base_/models/slowonly_r50.py)
SLOWONLY = dict(
    depth=50,
    pretrained=None,
    lateral=False,
    conv1_kernel=(1, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
    inflate=(0, 0, 1, 1),
    norm_eval=False,
    base_channels=4)
NON_LOCAL = dict(
    non_local=((0, 0, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 0, 0)),
    non_local_cfg=dict(
        sub_sample=True,
        use_scale=True,
        norm_cfg=dict(type='BN3d', requires_grad=True),
        mode='embedded_gaussian'))
NL_CFG = dict(
    type='NonLocal',
    dimension=3,
    sub_sample=True,
    norm_cfg=dict(type='BN3d', requires_grad=True))


def _five(cfg: dict, position: str = 'after_block') -> list:
    """Table 5's "+5" placement: res3 blocks (0, 2), res4 (0, 2, 4)."""
    return [
        dict(
            cfg=cfg,
            stages=(False, True, False, False),
            position=position,
            block_indices=(0, 2)),
        dict(
            cfg=cfg,
            stages=(False, False, True, False),
            position=position,
            block_indices=(0, 2, 4))
    ]


def _clip() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(2, 3, 4, 32, 32, generator=gen)


def _blocks(model: nn.Module, cls: type) -> Dict[str, nn.Module]:
    return {k: m for k, m in model.named_modules() if type(m) is cls}


@pytest.mark.parametrize('extra', [{}, NON_LOCAL], ids=['plain', 'non_local'])
def test_same_model_as_mmaction2(extra):
    """Without plugins: MMAction2's model key for key (its non-local blocks
    ours, a drop-in for mmcv's); its weights load strict, same output
    (fp64; BN on batch statistics, which random weights keep in range)."""
    ref = randomize_weights_(ResNet3dSlowOnly(**SLOWONLY, **extra)).double()
    ours = PluginResNet3dSlowOnly(**SLOWONLY, **extra).double()
    assert [(k, v.shape) for k, v in ours.state_dict().items()
            ] == [(k, v.shape) for k, v in ref.state_dict().items()]
    assert set(_blocks(ref, MMCVNonLocal3d)) == set(_blocks(ours, NonLocal3d))
    assert len(_blocks(ours, NonLocal3d)) == (5 if extra else 0)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = _clip().double()
    with torch.no_grad():
        out_ref, out = ref(x), ours(x)
    assert out.shape == (2, 128, 4, 1, 1)
    torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    'cls, cfg', [(NonLocal, NL_CFG),
                 (SimplifiedNonLocal, dict(type='SimplifiedNonLocal')),
                 (ContextBlock, dict(type='ContextBlock', ratio=1 / 4))])
def test_five_blocks_where_mmaction2_puts_non_local(cls, cfg):
    ours = PluginResNet3dSlowOnly(**SLOWONLY, plugins=_five(cfg))
    stock = ResNet3dSlowOnly(**SLOWONLY, **NON_LOCAL)
    where = [
        k[:-len('non_local_block')] for k in _blocks(stock, MMCVNonLocal3d)
    ]
    assert where == [
        'layer2.0.', 'layer2.2.', 'layer3.0.', 'layer3.2.', 'layer3.4.'
    ]
    blocks = _blocks(ours, cls)
    assert list(blocks) == [w + cls._abbr_ for w in where]
    assert [m.in_channels for m in blocks.values()] == [32, 32, 64, 64, 64]


def _stock_steps(block: Bottleneck3d,
                 x: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Bottleneck3d's intermediate tensors, each as the next layer sees it
    (stock code path, no plugins)."""
    steps = dict(after_conv1=block.conv1(x))
    steps['after_conv2'] = block.conv2(steps['after_conv1'])
    steps['after_conv3'] = block.conv3(steps['after_conv2'])
    identity = x if block.downsample is None else block.downsample(x)
    steps['after_add'] = steps['after_conv3'] + identity
    steps['after_block'] = block.relu(steps['after_add'])
    return steps


@pytest.mark.parametrize(
    'position',
    ['after_conv1', 'after_conv2', 'after_conv3', 'after_add', 'after_block'])
def test_plugin_positions(position):
    """A plugin at ``position`` sees the tensor of the stock block there,
    and the block goes on from the plugin's output."""
    torch.manual_seed(0)
    channels = 8 if position in ('after_conv1', 'after_conv2') else 32
    plugin = dict(
        cfg=dict(type='ContextBlock', ratio=1 / 4), position=position)
    block = PluginBottleneck3d(
        16,
        8,
        spatial_stride=2,
        downsample=nn.Sequential(nn.Conv3d(16, 32, 1, stride=(1, 2, 2))),
        plugins=[plugin])
    block = randomize_weights_(block).eval()
    assert block.context_block.in_channels == channels
    x = torch.randn(2, 16, 3, 8, 8)
    seen = []
    block.context_block.register_forward_hook(lambda m, args, out: seen.append(
        (args[0], out)))
    with torch.no_grad():
        out = block(x)
        steps = _stock_steps(block, x)
    (plugin_in, plugin_out), = seen
    torch.testing.assert_close(plugin_in, steps[position])
    assert (plugin_out - plugin_in).abs().max() > 1e-3  # not the identity
    if position == 'after_block':
        torch.testing.assert_close(out, plugin_out)
    else:
        assert not torch.allclose(out, steps['after_block'])


def test_after_block_follows_mmaction2_non_local():
    """``non_local`` (MMAction2's spelling) and an ``after_block`` NonLocal
    plugin compute the same block."""
    cfg = dict(sub_sample=True, norm_cfg=dict(type='BN3d'))
    a = PluginBottleneck3d(32, 8, non_local=True, non_local_cfg=cfg)
    b = PluginBottleneck3d(
        32, 8, plugins=[dict(cfg=dict(NL_CFG), position='after_block')])
    a = randomize_weights_(a).eval()
    state = {
        k.replace('non_local_block', 'nonlocal_block'): v
        for k, v in a.state_dict().items()
    }
    b.load_state_dict(state, strict=True)
    b.eval()
    x = torch.randn(1, 32, 2, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))


def test_init_weights_keeps_blocks_zero_initialised():
    """ResNet3d's Kaiming init (no pretrained weights) sets every BN to 1,
    the non-local blocks' included; each block's own init comes after."""
    model = PluginResNet3dSlowOnly(
        **SLOWONLY,
        **NON_LOCAL,
        plugins=_five(dict(type='ContextBlock', ratio=1 / 4)))
    randomize_weights_(model)
    model.init_weights()
    for m in _blocks(model, NonLocal3d).values():
        assert m.conv_out.bn.weight.abs().max() == 0
    for m in _blocks(model, ContextBlock).values():
        assert m.channel_add_conv[3].weight.abs().max() == 0
    stock = model.layer3[5].conv3.bn.weight  # zero_init_residual
    assert stock.abs().max() == 0 and model.conv1.bn.weight.min() == 1


def test_inflated_from_2d_weights_with_plugins(tmp_path):
    """``pretrained`` 2-D weights inflate into the stock layers; the
    blocks keep their init (MMAction2 logs them as not in the 2-D file)."""
    r2d = randomize_weights_(
        ResNet2d(depth=50, base_channels=4, stem_channels=4))
    path = tmp_path / 'r2d.pth'
    torch.save(r2d.state_dict(), path)
    model = PluginResNet3dSlowOnly(
        **dict(SLOWONLY, pretrained=str(path)),
        plugins=_five(NL_CFG) + [
            dict(
                cfg=dict(type='ContextBlock', ratio=1 / 4),
                stages=(False, True, True, True),
                position='after_conv3')
        ])
    model.init_weights()
    w2d = r2d.state_dict()['layer3.0.conv1.weight']  # inflated 3x1x1
    w3d = model.layer3[0].conv1.conv.weight
    torch.testing.assert_close(w3d, w2d.unsqueeze(2).expand_as(w3d) / 3)
    torch.testing.assert_close(model.layer4[2].conv3.bn.weight,
                               r2d.layer4[2].bn3.weight)
    assert len(_blocks(model, NonLocal)) == 5
    assert len(_blocks(model, ContextBlock)) == 13
    for m in _blocks(model, NonLocal).values():
        assert m.conv_out.bn.weight.abs().max() == 0
    for m in _blocks(model, ContextBlock).values():
        assert m.channel_add_conv[3].weight.abs().max() == 0


def test_with_cp_same_gradients():
    torch.manual_seed(0)
    plugins = _five(dict(type='ContextBlock', ratio=1 / 4), 'after_add')
    a = randomize_weights_(PluginResNet3dSlowOnly(**SLOWONLY, plugins=plugins))
    b = PluginResNet3dSlowOnly(**SLOWONLY, plugins=plugins, with_cp=True)
    b.load_state_dict(a.state_dict())
    x = _clip().requires_grad_()
    grads = []
    for model in (a, b):
        model.zero_grad()
        x.grad = None
        model(x).sum().backward()
        grads.append([x.grad] + [p.grad for p in model.parameters()])
    for ga, gb in zip(*grads):
        torch.testing.assert_close(ga, gb)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(plugins=[dict(cfg=dict(
        type='ContextBlock'), position='after_relu')]), ValueError,
     r"plugin position must be one of .*"
     r"'after_block'\), got 'after_relu'"),
    (dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock'),
            stages=(False, True),
            position='after_block')
    ]), ValueError, r'plugin stages \(False, True\) has 2 entries; give one '
     r'per stage \(4\)'),
    (dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock'),
            stages=(False, True, False, False),
            position='after_block',
            block_indices=(4, ))
    ]), IndexError, r'block_indices \(4,\) out of range for a stage of 4'),
    (dict(
        depth=18,
        plugins=[dict(cfg=dict(type='ContextBlock'), position='after_block')
                 ]), TypeError, 'plugins need Bottleneck3d blocks'),
    (dict(plugins=[
        dict(cfg=dict(type='ContextBlock'), position='after_block'),
        dict(
            cfg=dict(type='ContextBlock', ratio=1 / 4), position='after_block')
    ]), ValueError, "two plugins named 'context_block' in one block"),
])
def test_errors_name_the_bad_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        PluginResNet3dSlowOnly(**dict(SLOWONLY, **kwargs))


def test_block_factory_refuses_another_layer_layout():
    factory = BlockFactory3d(PluginBottleneck3d, 2)
    block = factory(32, 8)
    with pytest.raises(
            RuntimeError,
            match='called BlockFactory3d 1 times '
            'for a stage of 2 blocks'):
        factory.check_layer(nn.Sequential(block))
