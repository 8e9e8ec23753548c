"""PluginResNet / PluginResNeXt: plugin placement, key names, scopes."""
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.models.backbones import resnet as mmdet_resnet
from mmdet.models.layers import ResLayer
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from gcnet_plugin.models.backbones import (BlockFactory, PluginBottleneck,
                                           PluginResNet, PluginResNeXt)
from gcnet_plugin.models.layers import ContextBlock, NonLocal

C4 = (False, False, True, False)
C3_C5 = (False, True, True, True)
# The paper's GC block: r16 after the last 1x1 conv of every block in c3-c5.
GC_R16_C3_C5 = dict(
    cfg=dict(type='ContextBlock', ratio=1. / 16),
    stages=C3_C5,
    position='after_conv3')


@MODELS.register_module(force=True)
class _SpyPlugin(nn.Module):
    """Identity plugin that keeps its input (registered in mmdet only)."""
    _abbr_ = 'spy'

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.seen = None

    def forward(self, x: Tensor) -> Tensor:
        self.seen = x.clone()
        return x


def _small(depth: int = 50, **kwargs) -> PluginResNet:
    """A thin ResNet (base width 8) that builds and runs in milliseconds."""
    model = PluginResNet(
        depth=depth, base_channels=8, stem_channels=8, **kwargs)
    model.eval()  # mmdet's ResNet.train() returns None, so no chaining
    return model


def _blocks_with(model: nn.Module, name: str) -> list:
    return [(i, j) for i in range(1, 5)
            for j, blk in enumerate(getattr(model, f'layer{i}'))
            if hasattr(blk, name)]


def test_after_conv3_whole_stages_key_names():
    model = PluginResNet(depth=50, plugins=[GC_R16_C3_C5])
    keys = model.state_dict().keys()
    assert 'layer2.0.context_block.conv_mask.weight' in keys
    assert 'layer4.2.context_block.channel_add_conv.3.weight' in keys
    assert not any(k.startswith('layer1.') and 'context' in k for k in keys)
    # 4 + 6 + 3 blocks in c3-c5, with planes * 4 channels each.
    assert len(_blocks_with(model, 'context_block')) == 13
    assert model.layer3[0].context_block.in_channels == 1024
    assert isinstance(model.layer3[0].context_block, ContextBlock)


def test_after_add_sees_sum_before_relu():
    model = _small(plugins=[
        dict(cfg=dict(type='_SpyPlugin'), stages=C4, position='after_add')
    ])
    blk = model.layer3[1]
    x = torch.randn(2, 128, 5, 5)
    out = blk(x)
    branch = blk.norm3(
        blk.conv3(
            blk.relu(blk.norm2(blk.conv2(blk.relu(blk.norm1(blk.conv1(x))))))))
    torch.testing.assert_close(blk.spy.seen, branch + x)
    assert (blk.spy.seen < 0).any()  # seen before the final ReLU
    torch.testing.assert_close(out, torch.relu(blk.spy.seen))
    assert blk.spy.in_channels == 128  # planes * expansion


def test_after_add_with_checkpointing_matches():
    kwargs = dict(plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 4),
            stages=C4,
            position='after_add')
    ])
    plain, ckpt = _small(**kwargs), _small(with_cp=True, **kwargs)
    for blk in plain.layer3:  # make the blocks non-identity
        nn.init.normal_(blk.context_block.channel_add_conv[3].weight)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    torch.testing.assert_close(ckpt(x)[2], plain(x)[2])


@pytest.mark.parametrize('indices,expected',
                         [((-2, ), [(3, 4)]), ((0, -1), [(3, 0), (3, 5)]),
                          (None, [(3, j) for j in range(6)])])
def test_block_indices(indices, expected):
    plugin = dict(cfg=dict(type='NonLocal'), stages=C4, position='after_add')
    if indices is not None:
        plugin['block_indices'] = indices
    model = _small(plugins=[plugin])
    assert _blocks_with(model, 'nonlocal_block') == expected
    assert isinstance(model.layer3[expected[0][1]].nonlocal_block, NonLocal)
    x = torch.randn(1, 3, 64, 64)
    assert model(x)[2].shape == (1, 128, 4, 4)


def test_bad_position_and_index_raise():
    with pytest.raises(ValueError, match='after_relu'):
        _small(plugins=[
            dict(cfg=dict(type='ContextBlock'), position='after_relu')
        ])
    with pytest.raises(IndexError, match='stage of 6'):
        _small(plugins=[
            dict(
                cfg=dict(type='ContextBlock'),
                stages=C4,
                position='after_conv3',
                block_indices=(6, ))
        ])


@pytest.mark.parametrize('scope', [None, 'mmengine', 'mmdet'])
def test_plugins_come_from_mmdet_registry_whatever_the_scope(scope):
    # _SpyPlugin lives only in mmdet's MODELS: mmcv's build_plugin_layer
    # would not find it under the 'mmengine' scope or with no scope.
    plugins = [
        dict(cfg=dict(type='_SpyPlugin'), stages=C4, position='after_conv3'),
        dict(cfg=dict(type='ContextBlock'), stages=C4, position='after_conv2')
    ]
    if scope is None:
        model = _small(plugins=plugins)
    else:
        with DefaultScope.overwrite_default_scope(scope):
            model = _small(plugins=plugins)
    assert isinstance(model.layer3[0].spy, _SpyPlugin)
    assert type(model.layer3[0].context_block) is ContextBlock


def test_resnext_after_add_and_after_conv3():
    model = PluginResNeXt(
        depth=50,
        groups=32,
        base_width=4,
        plugins=[
            GC_R16_C3_C5,
            dict(
                cfg=dict(type='_SpyPlugin'),
                stages=(False, False, False, True),
                position='after_add',
                block_indices=(-1, ))
        ])
    assert model.layer4[2].context_block.in_channels == 2048
    assert model.layer4[2].spy.in_channels == 2048
    assert _blocks_with(model, 'spy') == [(4, 2)]
    assert model.layer2[0].conv2.groups == 32


def test_identity_at_init_and_zero_init_residual():
    plugins = [
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 4),
            stages=C3_C5,
            position='after_conv3'),
        dict(cfg=dict(type='NonLocal'), stages=C4, position='after_add')
    ]
    model = _small(plugins=plugins)
    model.init_weights()  # Kaiming for convs, then the blocks' own init
    assert isinstance(model.layer2[0], PluginBottleneck)
    assert model.layer2[0].norm3.weight.abs().sum() == 0
    for blk in (model.layer1[0], model.layer3[0]):  # non-zero residuals
        nn.init.normal_(blk.norm3.weight)
    plain = ResNet(depth=50, base_channels=8, stem_channels=8)
    plain.eval()
    result = plain.load_state_dict(model.state_dict(), strict=False)
    assert not result.missing_keys
    assert result.unexpected_keys  # the blocks' weights
    x = torch.randn(1, 3, 64, 64)
    for a, b in zip(model(x), plain(x)):
        torch.testing.assert_close(a, b)


def test_res_layer_calls_the_factory_once_per_block_in_order(monkeypatch):
    """The contract BlockFactory relies on, checked on the installed mmdet:
    ResLayer's i-th call builds the stage's block i (block 0 is the one
    with the downsampling shortcut)."""
    calls = []
    call = BlockFactory.__call__

    def spy(factory: BlockFactory, **kwargs) -> nn.Module:
        calls.append((factory.num_blocks, factory.index))
        block = call(factory, **kwargs)
        assert (factory.index == 1) == (block.downsample is not None), (
            f'block {factory.index - 1} of a stage of {factory.num_blocks} '
            'got the downsampling shortcut: mmdet\'s ResLayer no longer '
            'builds the blocks in order; see BlockFactory')
        return block

    monkeypatch.setattr(BlockFactory, '__call__', spy)
    model = _small(plugins=[
        dict(
            cfg=dict(type='_SpyPlugin'),
            stages=C4,
            position='after_add',
            block_indices=(-2, ))
    ])
    expected = [(n, i) for n in (3, 4, 6, 3) for i in range(n)]
    assert calls == expected, (
        'mmdet\'s ResLayer no longer calls its block class once per '
        f'residual block, in order ({calls} != {expected}); BlockFactory '
        'and block_indices rely on it')
    assert _blocks_with(model, 'spy') == [(3, 4)]


def _reversed(**kwargs) -> nn.Module:
    return nn.Sequential(*reversed(list(ResLayer(**kwargs))))


def _one_call_more(**kwargs) -> nn.Module:
    return ResLayer(**dict(kwargs, num_blocks=kwargs['num_blocks'] + 1))


def _one_call_less(**kwargs) -> nn.Module:
    return ResLayer(**dict(kwargs, num_blocks=kwargs['num_blocks'] - 1))


@pytest.mark.parametrize('res_layer',
                         [_reversed, _one_call_more, _one_call_less])
def test_a_res_layer_that_calls_the_factory_differently_fails(
        monkeypatch, res_layer):
    monkeypatch.setattr(mmdet_resnet, 'ResLayer', res_layer)
    with pytest.raises(RuntimeError, match='once per block, in order'):
        _small()
