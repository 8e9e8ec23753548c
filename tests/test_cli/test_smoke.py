"""--smoke N: any config trains one short epoch on N images, evaluates and
saves."""
import pytest
from mmengine.config import Config

from gcnet_plugin.cli import ConfigError, smoke_cfg

PAPER = 'configs/gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py'


def test_paper_config_on_8_images(load_config):
    cfg = load_config(PAPER)
    smoke_cfg(cfg, 8)
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.indices == 8
    assert cfg.train_cfg.max_epochs == 1
    assert cfg.train_cfg.val_interval == cfg.train_cfg.val_begin == 1
    assert cfg.default_hooks.logger.interval == 1
    assert cfg.default_hooks.checkpoint.interval == 1
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 1


def test_wrapped_and_iteration_based():
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset',
                    times=3,
                    dataset=dict(type='CocoDataset'))),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=90000),
            default_hooks=dict(checkpoint=dict(interval=5000))))
    smoke_cfg(cfg, 4)
    assert cfg.train_dataloader.dataset.dataset.indices == 4
    assert 'indices' not in cfg.train_dataloader.dataset
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 4
    assert cfg.default_hooks.checkpoint.interval == 4


def test_needs_a_positive_number():
    with pytest.raises(ConfigError, match='positive'):
        smoke_cfg(Config(dict()), 0)
