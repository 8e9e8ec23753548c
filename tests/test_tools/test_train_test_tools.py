"""tools/dist_train.sh, train.py --resume and test.py, end to end on CPU.

The quickstart model (GC R50 Mask R-CNN at a quarter of the width) trains
on 8 generated 128x128 images: 2 gloo processes x batch 2 = 2 iterations.
Each tool runs as its users run it, in a subprocess, with one OpenMP thread
per process (two processes on two cores).
"""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from gcnet_plugin.compat import safe_torch_load
from gcnet_plugin.data.synthetic_coco import make_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE_CONFIG = osp.join(REPO, 'configs', 'quickstart',
                       'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')

TINY_CONFIG = """_base_ = {base!r}
data_root = {data_root!r}
image_scale = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    **_loader, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1, val_begin=100)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(args, timeout: int = 240, **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable)
    full_env.update(env)
    return subprocess.run(
        args,
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('tools')
    data_root = str(root / 'data') + '/'
    make_synthetic_coco(data_root, 8, 4, image_size=(128, 128), seed=0)
    path = root / 'tiny.py'
    path.write_text(TINY_CONFIG.format(base=BASE_CONFIG, data_root=data_root))
    return str(path)


@pytest.fixture(scope='module')
def dist_trained(tiny_config, tmp_path_factory) -> dict:
    work_dir = str(tmp_path_factory.mktemp('dist_train'))
    result = run_tool([
        'bash', 'tools/dist_train.sh', tiny_config, '2', '--work-dir', work_dir
    ],
                      PORT=str(_free_port()))
    return dict(
        result=result,
        work_dir=work_dir,
        ckpt=osp.join(work_dir, 'epoch_1.pth'))


def test_dist_train_two_cpu_processes_writes_checkpoint(dist_trained):
    result = dist_trained['result']
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'Distributed training: True' in result.stdout
    assert "backend='gloo'" in result.stdout
    # 8 images / (2 processes x batch 2) = 2 iterations per epoch.
    assert 'Epoch(train) [1][2/2]' in result.stdout
    ckpt = safe_torch_load(dist_trained['ckpt'])
    assert ckpt['meta']['iter'] == 2 and ckpt['meta']['epoch'] == 1
    assert any('context_block' in key for key in ckpt['state_dict'])


def test_train_resume_continues_from_the_checkpoint(dist_trained, tiny_config,
                                                    tmp_path):
    # One process, batch 2: epoch 2 runs iterations 3..6.
    result = run_tool([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir',
        str(tmp_path), '--resume', dist_trained['ckpt'], '--cfg-options',
        'train_cfg.max_epochs=2'
    ])
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'resumed epoch: 1, iter: 2' in result.stdout
    assert 'Epoch(train) [2][4/4]' in result.stdout
    ckpt = safe_torch_load(str(tmp_path / 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 6


def test_test_py_prints_coco_metrics(dist_trained, tiny_config, tmp_path):
    result = run_tool([
        sys.executable, 'tools/test.py', tiny_config, dist_trained['ckpt'],
        '--work-dir',
        str(tmp_path)
    ])
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'coco/bbox_mAP:' in result.stdout
    assert 'coco/segm_mAP:' in result.stdout
    assert 'does not fit' not in result.stdout


def test_test_py_refuses_a_checkpoint_that_does_not_fit(
        dist_trained, tiny_config, tmp_path):
    # R50 weights under an R101 config: layer3.6 onwards would stay random.
    result = run_tool([
        sys.executable, 'tools/test.py', tiny_config, dist_trained['ckpt'],
        '--work-dir',
        str(tmp_path), '--cfg-options', 'model.backbone.depth=101'
    ])
    assert result.returncode != 0
    assert 'CheckpointMismatchError' in result.stdout
    assert 'does not fit the model of this config' in result.stdout
    assert 'model keys missing from the checkpoint: ' \
           'backbone.layer3.6.conv1.weight' in result.stdout
    assert 'coco/bbox_mAP' not in result.stdout
