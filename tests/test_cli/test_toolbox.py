"""What tools/train.py and tools/test.py do differently by toolbox (the
config's default_scope)."""
import pytest
import torch
from mmengine.config import Config

from gcnet_plugin.cli import ConfigError, prepare_test_cfg
from gcnet_plugin.cli.toolbox import (apply_toolbox_defaults, scope_registries,
                                      toolbox_of)


def _cfg(scope=None, **extra) -> Config:
    cfg = dict(
        model=dict(type='ImageClassifier'),
        test_dataloader=dict(
            batch_size=2,
            dataset=dict(
                type='ImageNet',
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='PackInputs')
                ])),
        default_hooks=dict(
            visualization=dict(type='VisualizationHook', enable=False)),
        **extra)
    if scope is not None:
        cfg['default_scope'] = scope
    return Config(cfg)


def test_toolbox_is_the_default_scope():
    assert toolbox_of(_cfg()) == 'mmdet'  # as MMDetection's tools assume
    assert toolbox_of(_cfg('mmpretrain')) == 'mmpretrain'


def test_registries_of_the_scope():
    import mmdet.registry
    import mmengine.registry
    assert mmdet.registry.MODELS in scope_registries('mmdet')
    # a scope without a registry module: mmengine's root registries
    assert mmengine.registry.MODELS in scope_registries('no_such_toolbox')


def test_mmpretrain_dataloaders_collate_as_its_tools_do():
    cfg = _cfg('mmpretrain')
    cfg.train_dataloader = dict(collate_fn=dict(type='pseudo_collate'))
    apply_toolbox_defaults(cfg)
    assert cfg.test_dataloader.collate_fn == dict(type='default_collate')
    assert cfg.train_dataloader.collate_fn == dict(type='pseudo_collate')
    det = _cfg('mmdet')
    apply_toolbox_defaults(det)
    assert 'collate_fn' not in det.test_dataloader


@pytest.fixture
def ckpt(tmp_path) -> str:
    path = str(tmp_path / 'c.pth')
    torch.save(dict(state_dict={}), path)
    return path


def test_show_dir_switches_on_the_config_hook(ckpt):
    cfg = prepare_test_cfg(
        _cfg('mmpretrain'), ckpt, show_dir='vis', wait_time=0.5)
    hook = cfg.default_hooks.visualization
    assert (hook.enable, hook.out_dir, hook.wait_time) == (True, 'vis', 0.5)
    cfg = _cfg('mmaction')
    del cfg.default_hooks['visualization']
    with pytest.raises(ConfigError, match='no default_hooks.visualization'):
        prepare_test_cfg(cfg, ckpt, show=True)


def test_tta_by_toolbox(ckpt):
    cfg = prepare_test_cfg(_cfg('mmpretrain'), ckpt, tta=True)
    assert cfg.model.type == 'mmpretrain.AverageClsScoreTTA'
    assert cfg.model.module.type == 'ImageClassifier'
    last = cfg.test_dataloader.dataset.pipeline[-1]
    assert last.type == 'TestTimeAug'
    assert [t.prob for t in last.transforms[0]] == [1., 0.]
    assert last.transforms[1] == [dict(type='PackInputs')]
    with pytest.raises(ConfigError, match='--tta: MMAction2 .*SampleFrames'):
        prepare_test_cfg(_cfg('mmaction'), ckpt, tta=True)
