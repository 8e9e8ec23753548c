"""load_config: the tools' shared config reading."""
import os.path as osp

import pytest
import torch

from gcnet_plugin.cli import ConfigError, check_checkpoint_arg, load_config
from gcnet_plugin.engine import IncompleteCheckpointError

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


def test_checkpoint_argument(tmp_path):
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': {'w': torch.zeros(64, 64)}}, good)
    check_checkpoint_arg(good)
    check_checkpoint_arg('https://example.org/x.pth')  # downloaded later
    with pytest.raises(ConfigError, match='--resume .*not found'):
        check_checkpoint_arg(str(tmp_path / 'none.pth'), '--resume')
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(open(good, 'rb').read()[:5000])
    with pytest.raises(IncompleteCheckpointError, match='cut.pth is trunc'):
        check_checkpoint_arg(str(cut))
