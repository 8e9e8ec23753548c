"""What ``type=...`` builds in MMAction2's scope: our classes, the same
objects as in MMDetection's registry; mmcv's stay where they were."""
from collections import OrderedDict

import pytest
from mmaction.registry import MODELS as MMACTION_MODELS
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner

import gcnet_plugin  # noqa: F401  (registers the blocks)
from gcnet_plugin.models.backbones import PluginResNet3dSlowOnly
from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal, NonLocal1d,
                                        NonLocal2d, NonLocal3d,
                                        SimplifiedNonLocal)

BLOCKS = dict(
    ContextBlock=ContextBlock,
    SimplifiedNonLocal=SimplifiedNonLocal,
    SE=SE,
    NonLocal=NonLocal)
PRESETS = dict(
    NonLocal1d=NonLocal1d, NonLocal2d=NonLocal2d, NonLocal3d=NonLocal3d)


@pytest.fixture
def no_default_scope(monkeypatch):
    """Start without any DefaultScope; restore the global list after."""
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    assert DefaultScope.get_current_instance() is None


@pytest.mark.parametrize('name', list(BLOCKS) + list(PRESETS))
def test_mmaction_scope_builds_ours(no_default_scope, name):
    cls = {**BLOCKS, **PRESETS}[name]
    assert MMACTION_MODELS.get(name) is cls
    init_default_scope('mmaction')
    block = MMACTION_MODELS.build(dict(type=name, in_channels=16))
    assert type(block) is cls
    if name in BLOCKS:  # the same class objects as MMDetection's
        assert MMDET_MODELS.get(name) is cls


def test_presets_stay_mmcv_elsewhere(no_default_scope):
    assert ROOT_MODELS.get('NonLocal2d') is MMCVNonLocal2d
    init_default_scope('mmdet')
    assert MMDET_MODELS.get('NonLocal2d') is MMCVNonLocal2d
    assert MMDET_MODELS.get('NonLocal3d') is not NonLocal3d


def test_backbone_registered_in_mmaction_only():
    assert MMACTION_MODELS.get('PluginResNet3dSlowOnly') is \
        PluginResNet3dSlowOnly
    assert 'PluginResNet3dSlowOnly' not in MMDET_MODELS.module_dict


def test_runner_builds_ours(no_default_scope, tmp_path):
    """A recognizer config (MMAction2's scope, our custom_imports) gets our
    backbone and blocks."""
    cfg = Config(
        dict(
            custom_imports=dict(
                imports=['gcnet_plugin'], allow_failed_imports=False),
            default_scope='mmaction',
            work_dir=str(tmp_path),
            model=dict(
                type='Recognizer3D',
                backbone=dict(
                    type='PluginResNet3dSlowOnly',
                    depth=50,
                    base_channels=4,
                    plugins=[
                        dict(
                            cfg=dict(type='ContextBlock', ratio=1 / 4),
                            stages=(False, True, True, True),
                            position='after_conv3'),
                        dict(
                            cfg=dict(type='NonLocal', dimension=3),
                            stages=(False, False, True, False),
                            position='after_block',
                            block_indices=(0, 2, 4))
                    ]),
                cls_head=dict(type='I3DHead', in_channels=128,
                              num_classes=3))))
    model = Runner.from_cfg(cfg).model
    assert type(model.backbone) is PluginResNet3dSlowOnly
    kinds = [type(m) for m in model.modules()]
    assert kinds.count(ContextBlock) == 13 and kinds.count(NonLocal) == 3
