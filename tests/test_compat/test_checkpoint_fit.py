"""A checkpoint that does not fit the model is refused, naming the keys."""
from types import SimpleNamespace

import pytest
import torch
from mmdet.models.backbones import ResNet, ResNeXt
from mmengine.registry import HOOKS
from torch import nn

import gcnet_plugin  # noqa: F401
from gcnet_plugin.compat import (CheckpointFitHook, CheckpointMismatchError,
                                 check_checkpoint_fits)
from gcnet_plugin.compat.checkpoint_fit import inserted_block_prefixes
from gcnet_plugin.models.backbones import PluginResNet


def tiny(out_channels: int = 4, extra: bool = False) -> nn.Module:
    layers = [nn.Conv2d(3, out_channels, 3), nn.BatchNorm2d(out_channels)]
    if extra:
        layers.append(nn.Conv2d(out_channels, 2, 1))
    return nn.Sequential(*layers)


def test_exact_fit_passes_and_strips_module_prefix():
    ckpt = {'module.' + k: v for k, v in tiny().state_dict().items()}
    fit = check_checkpoint_fits(tiny(), dict(state_dict=ckpt))
    assert fit.ok and fit.num_model_keys == 7


def test_num_batches_tracked_may_be_missing():
    state = tiny().state_dict()
    del state['1.num_batches_tracked']
    assert check_checkpoint_fits(tiny(), state).ok


def test_missing_unexpected_and_mis_shaped_keys_are_named():
    ckpt = tiny(out_channels=8).state_dict()
    ckpt['head.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_fits(tiny(extra=True), ckpt, name='bad.pth')
    message = str(info.value)
    assert 'bad.pth' in message
    assert '2 of 9 model keys missing' in message and '2.weight' in message
    assert '1 unexpected checkpoint keys: head.weight' in message
    assert '0.weight [8, 3, 3, 3] vs model [4, 3, 3, 3]' in message
    fit = check_checkpoint_fits(tiny(extra=True), ckpt, raise_error=False)
    assert fit.missing == ['2.weight', '2.bias']
    assert len(fit.mismatched) == 6  # conv w/b, bn w/b/mean/var


def test_r50_weights_do_not_fit_x50():
    # The published-GCNet-X101-with-R50-weights case, at depth 50.
    r50 = ResNet(depth=50).state_dict()
    fit = check_checkpoint_fits(
        ResNeXt(depth=50, groups=32, base_width=4), r50, raise_error=False)
    assert not fit.missing and not fit.unexpected
    assert len(fit.mismatched) > 40
    assert 'layer1.0.conv2.weight' in [key for key, _, _ in fit.mismatched]
    summary = fit.summary(max_keys=3)
    assert 'keys with a different shape' in summary and '(+' in summary


def test_hook_refuses_before_loading_and_allows_partial_on_request():
    model = tiny(extra=True)
    runner = SimpleNamespace(model=model)
    ckpt = dict(state_dict=tiny().state_dict())
    with pytest.raises(CheckpointMismatchError, match='2.weight'):
        CheckpointFitHook().after_load_checkpoint(runner, ckpt)
    CheckpointFitHook(allow_partial=True).after_load_checkpoint(runner, ckpt)


def small_resnet(plugins=None) -> nn.Module:
    return PluginResNet(
        depth=50, base_channels=8, stem_channels=8, plugins=plugins)


PLUGINS = [
    dict(
        cfg=dict(type='ContextBlock', ratio=1 / 4),
        stages=(False, False, False, True),
        position='after_conv3'),
    dict(
        cfg=dict(type='NonLocal'),
        stages=(False, False, True, False),
        position='after_add',
        block_indices=(-2, ))
]


def test_inserted_block_prefixes_name_every_plugin():
    model = nn.Sequential(small_resnet(PLUGINS))
    assert inserted_block_prefixes(model) == [
        '0.layer3.4.nonlocal_block', '0.layer4.0.context_block',
        '0.layer4.1.context_block', '0.layer4.2.context_block'
    ]
    assert inserted_block_prefixes(small_resnet()) == []


def test_inserted_blocks_may_miss_but_nothing_else():
    model = small_resnet(PLUGINS)
    plain = small_resnet().state_dict()
    may_miss = inserted_block_prefixes(model)
    fit = check_checkpoint_fits(model, plain, may_miss=may_miss)
    assert fit.ok and not fit.missing
    assert len(fit.missing_allowed) == sum(
        1 for k in model.state_dict() if 'context_block' in k or (
            'nonlocal_block' in k and not k.endswith('num_batches_tracked')))
    # a prefix covers its module's keys only, not a sibling's
    del plain['layer4.0.conv3.weight']
    with pytest.raises(CheckpointMismatchError, match='layer4.0.conv3.weight'):
        check_checkpoint_fits(model, plain, may_miss=may_miss)
    fit = check_checkpoint_fits(
        model, plain, may_miss=['layer4.0.conv3'], raise_error=False)
    assert fit.missing_allowed == ['layer4.0.conv3.weight']
    assert 'layer4.0.context_block.conv_mask.weight' in fit.missing


def test_hook_allows_missing_blocks_on_request():
    runner = SimpleNamespace(model=small_resnet(PLUGINS))
    ckpt = dict(state_dict=small_resnet().state_dict())
    with pytest.raises(CheckpointMismatchError) as info:
        CheckpointFitHook().after_load_checkpoint(runner, ckpt)
    assert 'nonlocal_block' in str(info.value)
    assert '--allow-partial' in str(info.value)
    hook = CheckpointFitHook(allow_missing_blocks=True)
    hook.after_load_checkpoint(runner, ckpt)
    ckpt['state_dict']['head.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as info:
        hook.after_load_checkpoint(runner, ckpt)
    message = str(info.value)
    assert '1 unexpected checkpoint keys: head.weight' in message
    assert 'Only the keys of the 4 blocks this config inserts' in message


def test_hook_is_registered_for_configs():
    hook = HOOKS.build(
        dict(type='CheckpointFitHook', allow_missing_blocks=True))
    assert isinstance(hook, CheckpointFitHook) and hook.allow_missing_blocks
