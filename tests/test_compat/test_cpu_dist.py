"""Distributed runs without CUDA: gloo, CPU DDP, SyncBN refused."""
import multiprocessing as mp

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

import gcnet_plugin  # noqa: F401
from gcnet_plugin.compat import (CPUDistributedDataParallel, SyncBNError,
                                 check_sync_bn, find_sync_bn, setup_cpu_dist)

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason='tests the CPU-only code path')


def sync_bn_cfg() -> Config:
    return Config(
        dict(
            model=dict(
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                roi_head=dict(mask_head=[dict(norm_cfg=dict(type='SyncBN'))]),
                neck=dict(norm_cfg=dict(type='BN')))))


def test_find_sync_bn_names_every_path():
    assert find_sync_bn(sync_bn_cfg()) == [
        'model.backbone.norm_cfg.type',
        'model.roi_head.mask_head.0.norm_cfg.type'
    ]


def test_sync_bn_is_refused_in_a_distributed_cpu_run():
    with pytest.raises(SyncBNError) as info:
        check_sync_bn(sync_bn_cfg())
    assert 'SyncBN needs CUDA' in str(info.value)
    assert ('--cfg-options model.backbone.norm_cfg.type=BN '
            'model.roi_head.mask_head.0.norm_cfg.type=BN') in str(info.value)
    # setup_cpu_dist checks before it starts any process group.
    cfg = sync_bn_cfg()
    cfg.launcher = 'pytorch'
    with pytest.raises(SyncBNError, match='SyncBN needs CUDA'):
        setup_cpu_dist(cfg)
    assert issubclass(SyncBNError, RuntimeError)  # as before
    assert not torch_dist.is_initialized()


@pytest.fixture
def single_process_env(monkeypatch, tmp_path):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29517')
    start_method = mp.get_start_method(allow_none=True)
    yield
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
    # init_dist sets 'spawn' when unset; leave the process as it was.
    mp.set_start_method(start_method, force=True)


@pytest.mark.filterwarnings('ignore:`broadcast_buffers` is deprecated')
def test_setup_cpu_dist_inits_gloo_and_wrapper(single_process_env):
    cfg = Config(
        dict(
            launcher='pytorch',
            find_unused_parameters=True,
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)),
            model=dict(backbone=dict(norm_cfg=dict(type='BN')))))
    setup_cpu_dist(cfg)
    assert torch_dist.is_initialized()
    assert torch_dist.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg.type == 'CPUDistributedDataParallel'
    assert cfg.model_wrapper_cfg.find_unused_parameters is True
    # What Runner.wrap_model then builds, device_ids included.
    wrapper = MODEL_WRAPPERS.build(
        cfg.model_wrapper_cfg,
        default_args=dict(module=nn.Linear(2, 1), device_ids=[0]))
    assert isinstance(wrapper, CPUDistributedDataParallel)
    assert wrapper.device_ids is None
    assert wrapper(torch.ones(3, 2)).shape == (3, 1)


def test_setup_cpu_dist_is_a_no_op_without_launcher():
    cfg = Config(dict(launcher='none', model=dict()))
    setup_cpu_dist(cfg)
    assert 'model_wrapper_cfg' not in cfg
    assert not torch_dist.is_initialized()
