"""load_config: the tools' shared config reading."""
import os.path as osp

import pytest

from gcnet_plugin.cli import ConfigError, load_config

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


def test_missing_config_names_the_closest(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    typo = 'configs/gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3c5_fpn_1x_coco.py'
    with pytest.raises(ConfigError) as info:
        load_config(typo)
    msg = str(info.value)
    assert msg.startswith(f'{typo}: config file not found.')
    assert ('Did you mean configs/gcnet/'
            'mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py') in msg
    with pytest.raises(ConfigError, match='configs are under configs/'):
        load_config('nowhere/x.py')


def test_options_work_dir_and_data_root(repo_root, monkeypatch, tmp_path):
    monkeypatch.chdir(repo_root)
    cfg = load_config(
        QUICKSTART, {
            'train_cfg.max_epochs': 1,
            '+my_note': 'kept'
        },
        launcher='pytorch',
        data_root=str(tmp_path))
    assert cfg.train_cfg.max_epochs == 1 and cfg.my_note == 'kept'
    assert cfg.launcher == 'pytorch'
    assert cfg.work_dir == osp.join(
        './work_dirs', 'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart')
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path) + '/'
    assert load_config(QUICKSTART, work_dir='w').work_dir == 'w'
    with pytest.raises(ConfigError, match='max_epochs'):
        load_config(QUICKSTART, {'max_epochs': 1})
