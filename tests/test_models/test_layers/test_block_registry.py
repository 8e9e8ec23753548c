"""Which class a config's ``type='ContextBlock'`` builds, scope by scope."""
from collections import OrderedDict

import mmcv.cnn
import pytest
from mmcv.cnn import build_plugin_layer
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner

import gcnet_plugin  # noqa: F401  (registers the blocks)
from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal,
                                        SimplifiedNonLocal)

OURS = dict(
    ContextBlock=ContextBlock,
    NonLocal=NonLocal,
    SE=SE,
    SimplifiedNonLocal=SimplifiedNonLocal)


@pytest.fixture
def no_default_scope(monkeypatch):
    """Start without any DefaultScope; restore the global list after."""
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    assert DefaultScope.get_current_instance() is None


def test_mmcv_block_is_a_different_class():
    assert mmcv.cnn.ContextBlock is not ContextBlock
    with pytest.raises(TypeError, match='norm_cfg'):  # loud, not silent
        mmcv.cnn.ContextBlock(16, 1 / 4, norm_cfg=None)


@pytest.mark.parametrize('name', list(OURS))
def test_mmdet_scope_builds_ours(no_default_scope, name):
    init_default_scope('mmdet')
    assert type(MMDET_MODELS.build(dict(type=name, in_channels=16))) is \
        OURS[name]
    assert type(ROOT_MODELS.build(dict(type=name, in_channels=16))) is \
        OURS[name]


@pytest.mark.parametrize('name', list(OURS))
def test_root_registry_builds_ours(no_default_scope, name):
    assert ROOT_MODELS.get(name) is OURS[name]
    assert type(ROOT_MODELS.build(dict(type=name, in_channels=16))) is \
        OURS[name]


@pytest.mark.parametrize('scope', [None, 'mmdet', 'mmengine'])
def test_build_plugin_layer(no_default_scope, scope):
    if scope is not None:
        init_default_scope(scope)
    name, layer = build_plugin_layer(
        dict(type='ContextBlock', ratio=1 / 4), in_channels=16, postfix=1)
    assert type(layer) is ContextBlock and name == 'context_block1'
    name, layer = build_plugin_layer(
        dict(type='NonLocal', mode='concat'), in_channels=16)
    assert type(layer) is NonLocal and name == 'nonlocal_block'
    name, layer = build_plugin_layer(
        dict(type='NonLocal', dimension=3, sub_sample=True), in_channels=16)
    assert type(layer) is NonLocal and layer.dimension == 3


def resnet_cfg(type_name: str) -> dict:
    return dict(
        type=type_name,
        depth=50,
        base_channels=8,
        stem_channels=8,
        plugins=[
            dict(
                cfg=dict(type='ContextBlock', ratio=1 / 4),
                stages=(False, False, True, False),
                position='after_conv3')
        ])


def test_runner_builds_ours(no_default_scope, tmp_path):
    cfg = Config(
        dict(
            custom_imports=dict(
                imports=['gcnet_plugin'], allow_failed_imports=False),
            default_scope='mmdet',
            work_dir=str(tmp_path),
            model=resnet_cfg('ResNet')))
    runner = Runner.from_cfg(cfg)
    blocks = [
        m for m in runner.model.modules() if 'ContextBlock' in type(m).__name__
    ]
    assert len(blocks) == 6 and all(type(m) is ContextBlock for m in blocks)


def test_stock_resnet_without_scope_builds_ours(no_default_scope):
    model = ROOT_MODELS.build(resnet_cfg('mmdet.ResNet'))
    blocks = [m for m in model.modules() if 'ContextBlock' in type(m).__name__]
    assert len(blocks) == 6 and all(type(m) is ContextBlock for m in blocks)
