"""tools/dist_train.sh (2 CPU processes), tools/train.py and tools/test.py
on the Kinetics smoke config, end to end on CPU.

The reduced slow-only GC network of ``configs/kinetics/smoke/`` trains on
generated raw-frame videos (64x64, 8 classes: the direction a shape moves
in) through the same tools as the COCO configs: its ``default_scope =
'mmaction'`` picks the toolbox. Each tool runs as its users run it, in a
subprocess, with one OpenMP thread per process.
"""
import os
import os.path as osp
import re
import shutil
import sys

import pytest

from gcnet_plugin.analysis.paper_comparison import TOP1, TOP5
from gcnet_plugin.analysis.work_dir_results import find_runs
from gcnet_plugin.compat import safe_torch_load
from gcnet_plugin.data.synthetic_rawframes import (annotation_list,
                                                   frame_folder,
                                                   make_synthetic_rawframes)

SMOKE = ('configs/kinetics/smoke/'
         'slowonly_r50-w8-gcb-r4-c3-c5_1xb8-8x2x1-15e_kinetics-synthetic-'
         'rgb.py')
NUM_TRAIN, NUM_VAL = 8, 6
# The smoke config on its data at ``data_root``: batch 2, no dataloader
# workers, one epoch, validated at its end.
TINY = """_base_ = {base!r}
data_root = {data_root!r}
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(**_loader, dataset=dict(data_root=data_root))
val_dataloader = dict(**_loader, dataset=dict(data_root=data_root))
test_dataloader = dict(**_loader, dataset=dict(data_root=data_root))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""
METRIC = re.compile(r'acc/top1: ([\d.]+) +acc/top5: ([\d.]+)')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> str:
    """8 train and 6 val generated videos of 16 frames."""
    root = str(tmp_path_factory.mktemp('kinetics') / 'kinetics_synthetic')
    make_synthetic_rawframes(root, NUM_TRAIN, NUM_VAL)
    return root + '/'


@pytest.fixture(scope='module')
def tiny(repo_root, data_root, tmp_path_factory) -> str:
    """The smoke config on ``data_root``."""
    config = tmp_path_factory.mktemp('kinetics_tools') / 'tiny.py'
    config.write_text(
        TINY.format(base=str(repo_root / SMOKE), data_root=data_root))
    return str(config)


def test_dist_train_two_cpu_processes(dist_trained):
    result = dist_trained['result']
    log = result.stdout
    assert result.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    assert "backend='gloo'" in log
    assert 'Batch: 2 processes x 2 images = 4 images per optimizer step ' \
        "(the config's lr is for 8)" in log
    # 8 videos / (2 processes x 2) = 2 iterations, then validation
    assert 'Epoch(train) [1][2/2]' in log
    assert METRIC.search(log), log[-3000:]
    ckpt = safe_torch_load(osp.join(dist_trained['work_dir'], 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 2
    keys = ckpt['state_dict']
    # GC in the one block of c3, c4 and c5, none in c2; an 8-way head.
    assert sorted({k.split('.')[1]
                   for k in keys
                   if 'context_block' in k}) == ['layer2', 'layer3', 'layer4']
    assert tuple(keys['cls_head.fc_cls.weight'].shape) == (8, 256)


def test_test_py_evaluates_top1_top5(dist_trained, tiny, run, tmp_path):
    """test.py prints MMAction2's top-1/top-5 accuracy over the val
    videos; paper_report's reader finds them (in percent) in the
    work_dir."""
    ckpt = osp.join(dist_trained['work_dir'], 'epoch_1.pth')
    result = run([
        sys.executable, 'tools/test.py', tiny, ckpt, '--work-dir',
        str(tmp_path / 'tiny')
    ])
    assert result.returncode == 0, result.stdout[-4000:]
    assert f'Epoch(test) [{NUM_VAL // 2}/{NUM_VAL // 2}]' in result.stdout
    top1, top5 = map(float, METRIC.search(result.stdout).groups())
    assert 0 <= top1 <= top5 <= 1
    # Fractions of the 6 val videos.
    assert top1 * NUM_VAL == pytest.approx(round(top1 * NUM_VAL), abs=1e-3)
    [run_result] = find_runs(str(tmp_path))
    assert run_result.source.startswith('test ')
    assert TOP1.of(run_result) == pytest.approx(100 * top1, abs=0.01)
    assert TOP5.of(run_result) == pytest.approx(100 * top5, abs=0.01)


@pytest.mark.slow
def test_train_py_smoke_on_the_smoke_config(data_root, run, tmp_path):
    """The config as shipped, pointed at the data by --data-root, with
    its dataloader worker (dist_train.sh above covers train.py)."""
    result = run([
        sys.executable, 'tools/train.py', SMOKE, '--data-root', data_root,
        '--smoke', '4', '--work-dir',
        str(tmp_path)
    ])
    assert result.returncode == 0, result.stdout[-4000:]
    # 4 videos, batch 8: one iteration of 4 clips of 8x64x64.
    assert 'Epoch(train) [1][1/1]' in result.stdout
    assert METRIC.search(result.stdout), result.stdout[-3000:]
    assert osp.isfile(tmp_path / 'epoch_1.pth')


def _one_error(result) -> str:
    out = result.stdout
    assert result.returncode == 2, out[-4000:]
    assert 'Traceback' not in out
    assert out.count(': error: ') == 1
    return out


def test_missing_data_is_one_message(tiny, run, tmp_path):
    missing = str(tmp_path / 'kinetics_synthetic')
    out = _one_error(
        run([
            sys.executable, 'tools/train.py', tiny, '--work-dir',
            str(tmp_path / 'work'), '--data-root', missing
        ]))
    assert ('tools/train.py: error: train_dataloader.dataset.data_root: '
            f'data root not found: {missing}/') in out
    assert 'make_kinetics_data.py' in out


def test_missing_frame_is_one_message(data_root, run, tmp_path):
    """A frame gone from a copy of the data: named before training."""
    root = shutil.copytree(data_root, tmp_path / 'kinetics_synthetic')
    with open(annotation_list(str(root), 'val')) as f:
        frame_dir = f.readline().split()[0]
    folder = osp.join(frame_folder(str(root), 'val'), frame_dir)
    os.remove(osp.join(folder, 'img_00007.jpg'))
    out = _one_error(
        run([
            sys.executable, 'tools/train.py', SMOKE, '--data-root',
            str(root), '--work-dir',
            str(tmp_path / 'work')
        ]))
    assert ('error: val_dataloader.dataset.data_prefix.img: line 1 counts '
            '16 frames (img_00001.jpg to img_00016.jpg) but 1 of them is '
            f'missing, the first img_00007.jpg: {folder}') in out
