"""MMPretrain's MODELS holds our classes: ``type='ContextBlock'`` in a
classification config builds ours under any default scope."""
from collections import OrderedDict

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

import gcnet_plugin  # noqa: F401  (registers the blocks)
from gcnet_plugin.models.backbones import PluginResNet, PluginResNeXt
from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal,
                                        SimplifiedNonLocal)
from gcnet_plugin.models.mmpretrain_registry import register_in_mmpretrain

BLOCKS = dict(
    ContextBlock=ContextBlock,
    NonLocal=NonLocal,
    SE=SE,
    SimplifiedNonLocal=SimplifiedNonLocal)
OURS = dict(BLOCKS, PluginResNet=PluginResNet, PluginResNeXt=PluginResNeXt)


@pytest.fixture
def no_default_scope(monkeypatch):
    """Start without any DefaultScope; restore the global list after."""
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    assert DefaultScope.get_current_instance() is None


@pytest.mark.parametrize('name', list(OURS))
def test_same_class_objects_in_mmpretrain_registry(name):
    # held by mmpretrain's registry itself, not found through a parent
    assert MMPRETRAIN_MODELS.module_dict[name] is OURS[name]


def test_registering_again_adds_nothing():
    before = dict(MMPRETRAIN_MODELS.module_dict)
    assert sorted(register_in_mmpretrain()) == sorted(OURS)
    assert MMPRETRAIN_MODELS.module_dict == before


@pytest.mark.parametrize('scope', [None, 'mmdet', 'mmpretrain'])
@pytest.mark.parametrize('name', list(BLOCKS))
def test_mmpretrain_registry_builds_ours_under_any_scope(
        no_default_scope, scope, name):
    if scope is not None:
        init_default_scope(scope)
    block = MMPRETRAIN_MODELS.build(dict(type=name, in_channels=16))
    assert type(block) is BLOCKS[name]


def classifier_cfg(plugin_type: str) -> dict:
    """A reduced-width (1/8) ResNet-50 classifier with one block type in
    every c4 residual block."""
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='PluginResNet',
            depth=50,
            base_channels=8,
            stem_channels=8,
            out_indices=(3, ),
            plugins=[
                dict(
                    cfg=dict(type=plugin_type),
                    stages=(False, False, True, False),
                    position='after_conv3')
            ]),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=256))


@pytest.mark.parametrize('name', list(BLOCKS))
def test_runner_under_mmpretrain_scope_builds_ours(no_default_scope, name,
                                                   tmp_path):
    cfg = Config(
        dict(
            custom_imports=dict(
                imports=['gcnet_plugin'], allow_failed_imports=False),
            default_scope='mmpretrain',
            work_dir=str(tmp_path),
            model=classifier_cfg(name)))
    runner = Runner.from_cfg(cfg)
    assert type(runner.model).__module__.startswith('mmpretrain.')
    assert type(runner.model.backbone) is PluginResNet
    blocks = [m for m in runner.model.modules() if type(m) is BLOCKS[name]]
    assert len(blocks) == 6
