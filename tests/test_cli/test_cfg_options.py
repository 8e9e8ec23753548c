"""--cfg-options keys that would change nothing are refused with the
closest keys; keys the config or its objects use pass."""
import pytest

from gcnet_plugin.cli import ConfigError, check_cfg_options, suggest_keys
from gcnet_plugin.cli.cfg_options import config_keys, split_forced

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


@pytest.fixture(scope='module')
def cfg(load_config):
    return load_config(QUICKSTART)


def _refusal(cfg, **options) -> str:
    with pytest.raises(ConfigError) as info:
        check_cfg_options(cfg, options, filename='q.py')
    return str(info.value)


@pytest.mark.parametrize('key', [
    'train_cfg.max_epochs', 'model.backbone.norm_cfg.type',
    'model.backbone.plugins.0.cfg.ratio', 'param_scheduler.1.eta_min',
    'optim_wrapper', 'load_from', 'resume', 'find_unused_parameters'
])
def test_existing_and_runner_keys_pass(cfg, key):
    check_cfg_options(cfg, {key: 1})


@pytest.mark.parametrize(
    'key',
    [
        'optim_wrapper.accumulative_counts',  # OptimWrapper's argument
        'optim_wrapper.paramwise_cfg.norm_decay_mult',  # the builder's
        'optim_wrapper.constructor',
        'env_cfg.dist_cfg.timeout',  # init_process_group's **kwargs
        'train_dataloader.dataset.indices',  # BaseDataset's, via kwargs
        'train_dataloader.pin_memory',  # torch's DataLoader
        'default_hooks.checkpoint.save_begin',  # CheckpointHook
        'model.backbone.norm_cfg.eps',  # BN -> nn.BatchNorm2d
        'randomness.deterministic',
        'auto_scale_lr.base_batch_size',
    ])
def test_new_arguments_of_built_objects_pass(cfg, key):
    check_cfg_options(cfg, {key: 1})


def test_misspelled_key_is_refused_with_the_closest(cfg):
    msg = _refusal(cfg, **{'train_cfg.max_epoch': 1})
    assert "'train_cfg.max_epoch' is not a key of q.py" in msg
    assert 'Did you mean train_cfg.max_epochs?' in msg


def test_short_key_gets_the_full_one(cfg):
    msg = _refusal(cfg, max_epoch=1)
    assert 'Did you mean train_cfg.max_epochs?' in msg
    msg = _refusal(cfg, **{'backbone.norm_cfg.typ': 'BN'})
    assert 'Did you mean model.backbone.norm_cfg.type?' in msg


def test_misspelled_new_argument_gets_the_argument(cfg):
    msg = _refusal(cfg, **{'optim_wrapper.accumulative_count': 4})
    assert 'Did you mean optim_wrapper.accumulative_counts?' in msg
    msg = _refusal(cfg, **{'model.backbone.norm_cfg.typ': 'BN'})
    assert 'Did you mean model.backbone.norm_cfg.type?' in msg


def test_variables_of_the_file_are_refused(cfg):
    # The quickstart file has a top-level max_epochs that only feeds
    # train_cfg while the file is read.
    assert cfg.max_epochs == cfg.train_cfg.max_epochs
    msg = _refusal(cfg, max_epochs=1)
    assert "'max_epochs' is a variable of the config file" in msg
    assert 'Did you mean train_cfg.max_epochs?' in msg
    assert 'Pass --data-root DIR' in _refusal(cfg, data_root='/x/')


def test_all_refused_keys_in_one_message(cfg):
    msg = _refusal(cfg, max_epochs=1, **{'train_cfg.max_epoch': 1})
    assert "'max_epochs'" in msg and "'train_cfg.max_epoch'" in msg
    assert msg.rstrip().endswith('Write +KEY=VALUE to set a key anyway.')


def test_forced_keys_pass(cfg):
    options, forced = split_forced({'+my_key.x': 1, 'train_cfg.val_begin': 2})
    assert options == {'my_key.x': 1, 'train_cfg.val_begin': 2}
    assert forced == {'my_key.x'}
    check_cfg_options(cfg, options, forced)


def test_config_keys_flattens_dicts_and_lists():
    keys = config_keys(dict(a=dict(b=[dict(c=1), 2]), d=3))
    assert set(keys) == {'a', 'a.b', 'a.b.0', 'a.b.0.c', 'a.b.1', 'd'}
    assert keys['a.b.0.c'] == 1


def test_suggest_keys_orders_by_closeness():
    cands = ['train_cfg.max_epochs', 'a.max_iters', 'model.x.max_epochs']
    assert suggest_keys(
        'max_epochs', cands) == ['train_cfg.max_epochs', 'model.x.max_epochs']
    assert suggest_keys('zzz', cands) == []
