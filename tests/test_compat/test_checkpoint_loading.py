"""mmengine checkpoints load and resume under torch >= 2.6; code is refused.

A toy mmengine model (a linear layer and a BN) trains for 2 iterations
with SGD momentum and two schedulers, which puts numpy objects, the message
hub's ``HistoryBuffer`` and a ``Counter`` into its checkpoint.
"""
import collections
import copy
import itertools
import os
import os.path as osp
import pickle
import sys
from typing import List, Optional

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import load_checkpoint
from torch import nn
from torch.utils.data import Dataset

import gcnet_plugin  # noqa: F401
from gcnet_plugin.compat import (CheckpointRefusedError, checkpoint_loading,
                                 safe_pickle, safe_torch_load)

_RUN_IDS = itertools.count()


class ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.bn = nn.BatchNorm1d(1)

    def forward(self, inputs, data_samples=None, mode: str = 'loss'):
        out = self.bn(self.linear(inputs))
        if mode == 'loss':
            return dict(loss=((out - 1)**2).mean())
        return out


class ToyDataset(Dataset):
    metainfo = dict(classes=('a', 'b'), weights=np.arange(3.0))

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=torch.full((2, ), float(i)))


class StateAtStart(Hook):
    """Records the Runner's state when training (re)starts."""

    def before_train(self, runner) -> None:
        self.iter = runner.iter
        self.optimizer = copy.deepcopy(runner.optim_wrapper.state_dict())
        self.lr = runner.message_hub.get_scalar('train/lr').data[0].copy()


def build_runner(work_dir: str,
                 max_iters: int,
                 resume_from: Optional[str] = None,
                 hooks: Optional[List[Hook]] = None) -> Runner:
    """A Runner for the toy model; ``resume_from`` sets resume=True."""
    return Runner(
        model=ToyModel(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=[
            dict(
                type='LinearLR',
                start_factor=0.1,
                by_epoch=False,
                begin=0,
                end=2),
            dict(type='MultiStepLR', milestones=[3], by_epoch=False)
        ],
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=hooks,
        load_from=resume_from,
        resume=resume_from is not None,
        randomness=dict(seed=0),
        experiment_name=f'toy{next(_RUN_IDS)}_{os.getpid()}')


@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> dict:
    work_dir = str(tmp_path_factory.mktemp('toy'))
    runner = build_runner(work_dir, max_iters=2)
    runner.train()
    return dict(work_dir=work_dir, ckpt=osp.join(work_dir, 'iter_2.pth'))


def test_torch_default_loader_refuses_mmengine_checkpoint(trained):
    # The problem the fix exists for (torch >= 2.6 defaults).
    with pytest.raises(pickle.UnpicklingError):
        torch.load(trained['ckpt'])


def test_checkpoint_holds_what_the_allow_list_was_built_for(trained):
    ckpt = safe_torch_load(trained['ckpt'])
    buffer = ckpt['message_hub']['log_scalars']['train/lr']
    assert isinstance(buffer, HistoryBuffer)
    # getattr(HistoryBuffer, 'min') etc. came back as the real methods.
    assert buffer._statistics_methods['min'] is HistoryBuffer.min
    assert isinstance(ckpt['meta']['dataset_meta']['weights'], np.ndarray)
    milestones = ckpt['param_schedulers'][1]['milestones']
    assert isinstance(milestones, collections.Counter)
    assert ckpt['meta']['iter'] == 2


def test_load_checkpoint_restores_weights(trained):
    model = ToyModel()
    load_checkpoint(model, trained['ckpt'], map_location='cpu')
    saved = safe_torch_load(trained['ckpt'])['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_resume_continues_with_same_state(trained, tmp_path):
    # Ground truth from torch's unrestricted loader (we wrote the file).
    saved = torch.load(trained['ckpt'], weights_only=False)
    state = StateAtStart()
    runner = build_runner(
        str(tmp_path), max_iters=3, resume_from=trained['ckpt'], hooks=[state])
    runner.train()
    assert state.iter == 2 and runner.iter == 3
    expected = saved['optimizer']['state']
    assert state.optimizer['state'].keys() == expected.keys() and expected
    for key in expected:
        assert torch.equal(state.optimizer['state'][key]['momentum_buffer'],
                           expected[key]['momentum_buffer'])
    lr_history = saved['message_hub']['log_scalars']['train/lr'].data[0]
    assert len(lr_history) == 2
    np.testing.assert_array_equal(state.lr, lr_history)


def test_register_statistics_method_is_admitted(tmp_path):
    # Methods registered by installed code pass the guarded getattr.
    path = str(tmp_path / 'buf.pth')
    buffer = HistoryBuffer([1.0, 2.0], [1, 1])
    torch.save({'b': buffer}, path)
    loaded = safe_torch_load(path)['b']
    assert loaded.mean() == 1.5 and loaded.max() == 2.0


def test_torch_value_types_round_trip(tmp_path):
    path = str(tmp_path / 'types.pth')
    obj = dict(
        param=nn.Parameter(torch.ones(2, 3)),
        half=torch.zeros(4, dtype=torch.float16),
        dtype=torch.int64,
        size=torch.Size([1, 2]),
        device=torch.device('cpu'),
        scalar=np.float32(0.5),
        things={1, 2},
        counts=collections.Counter(a=2),
        data=b'\x00\xff')
    torch.save(obj, path)
    loaded = safe_torch_load(path)
    assert isinstance(loaded['param'], nn.Parameter)
    assert loaded['half'].dtype == torch.float16
    assert loaded['dtype'] is torch.int64
    assert loaded['size'] == torch.Size([1, 2])
    assert loaded['scalar'] == np.float32(0.5)
    assert loaded['things'] == {1, 2} and loaded['data'] == b'\x00\xff'


class _SystemPayload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _GetattrPayload:

    def __reduce__(self):
        # A getattr outside the (HistoryBuffer, statistic) pairs.
        return (getattr, (HistoryBuffer, 'register_statistics'))


class _EvalPayload:

    def __reduce__(self):
        return (eval, ('1 + 1', ))


def test_code_execution_payload_is_refused(tmp_path, trained):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    ckpt = safe_torch_load(trained['ckpt'])
    ckpt['meta']['payload'] = _SystemPayload(str(marker))
    torch.save(ckpt, path)
    with pytest.raises(CheckpointRefusedError, match='system') as info:
        safe_torch_load(path)
    assert 'evil.pth' in str(info.value) and 'Refused' in str(info.value)
    # Every mmengine entry point goes through the same loader.
    with pytest.raises(CheckpointRefusedError):
        load_checkpoint(ToyModel(), path)
    runner = build_runner(str(tmp_path / 'wd'), max_iters=3, resume_from=path)
    with pytest.raises(CheckpointRefusedError):
        runner.train()
    assert not marker.exists()


@pytest.mark.parametrize('payload,what', [(_GetattrPayload(), 'getattr'),
                                          (_EvalPayload(), 'eval')])
def test_other_escapes_are_refused(tmp_path, payload, what):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': payload}, path)
    with pytest.raises(CheckpointRefusedError, match=what):
        safe_torch_load(path)


def test_guarded_encode_refuses_other_codecs():
    with pytest.raises(CheckpointRefusedError):
        safe_pickle.find_global('_codecs', 'encode')('x', 'rot13')
    assert safe_pickle.find_global('_codecs', 'encode')('\xff',
                                                        'latin1') == b'\xff'


def test_torchscript_archive_is_refused(tmp_path):
    path = str(tmp_path / 'scripted.pt')
    torch.jit.save(torch.jit.script(nn.Linear(1, 1)), path)
    with pytest.raises(CheckpointRefusedError, match='TorchScript'):
        safe_torch_load(path)


def test_url_schemes_use_the_safe_loader(trained, tmp_path):
    assert mmengine_checkpoint.load_url is checkpoint_loading.load_url
    loader = mmengine_checkpoint.CheckpointLoader._get_checkpoint_loader(
        '/some/local.pth')
    assert loader is checkpoint_loading.load_from_local
    # http(s):// goes through mmengine's load_from_http -> load_url; a
    # file:// URL exercises the same download-and-load path offline.
    url = 'file://' + osp.abspath(trained['ckpt'])
    ckpt = mmengine_checkpoint.load_from_http(
        url, map_location='cpu', model_dir=str(tmp_path / 'hub'))
    assert ckpt['meta']['iter'] == 2
    assert osp.isfile(tmp_path / 'hub' / 'iter_2.pth')


def test_torchvision_names_resolve_without_torchvision(monkeypatch):
    monkeypatch.setitem(sys.modules, 'torchvision', None)  # not installed
    with pytest.raises(ImportError):
        mmengine_checkpoint.get_torchvision_models()
    urls = checkpoint_loading.torchvision_urls()
    assert urls['resnet50'] == ('https://download.pytorch.org/models/'
                                'resnet50-0676ba61.pth')
    fetched = []
    monkeypatch.setattr(
        mmengine_checkpoint,
        'load_from_http',
        lambda url, map_location=None: fetched.append(url))
    loader = mmengine_checkpoint.CheckpointLoader._get_checkpoint_loader(
        'torchvision://resnet101')
    assert loader is checkpoint_loading.load_from_torchvision
    loader('torchvision://resnet101', 'cpu')
    assert fetched == [urls['resnet101']]
    with pytest.raises(
            checkpoint_loading.CheckpointDownloadError,
            match='no torchvision model'):
        loader('torchvision://resnet9', 'cpu')


def test_failed_download_says_where_to_put_the_file(tmp_path):
    url = 'file://' + str(tmp_path / 'missing' / 'w-0123abcd.pth')
    with pytest.raises(checkpoint_loading.CheckpointDownloadError) as info:
        checkpoint_loading.load_url(url, model_dir=str(tmp_path / 'hub'))
    assert 'download failed' in str(info.value)
    assert str(tmp_path / 'hub' / 'w-0123abcd.pth') in str(info.value)
