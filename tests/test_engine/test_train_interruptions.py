"""Kill, stop and resume ``tools/train.py`` as a user would, on CPU.

The quickstart model trains 2 epochs on 4 generated 64x64 images (batch
2, two persistent dataloader workers, random flips on, validation on 2
images after each epoch, one checkpoint kept). Every interrupted run,
resumed with ``--resume``, must end with epoch-2 weights bit-identical to
the uninterrupted run's, and no dataloader worker may outlive the
process that was stopped.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import torch
from mmengine.config import Config

from gcnet_plugin.compat import safe_torch_load
from gcnet_plugin.engine.exact_resume_hook import CHECKPOINT_KEY

# Kills its own process (SIGKILL) inside the save of one epoch's
# checkpoint, after the data is written and before the rename.
KILLER_MODULE = """import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class KillDuringSaveHook(Hook):

    def __init__(self, epoch):
        self.epoch = epoch

    def before_save_checkpoint(self, runner, checkpoint):
        if runner.epoch + 1 == self.epoch:
            os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
"""

KILLER_CONFIG = """_base_ = {tiny!r}
custom_imports = dict(
    imports=['gcnet_plugin', 'kill_during_save'], allow_failed_imports=False)
custom_hooks = {hooks!r}
"""


def _env(**extra: str) -> Dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS='1', **extra)


@pytest.fixture(scope='module')
def train(repo_root: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``train(config, work_dir, *args, **env)``: tools/train.py, run to
    its end, its output in ``.stdout``."""

    def run(config: str, work_dir: str, *args: str,
            **env: str) -> subprocess.CompletedProcess:
        command = [sys.executable, 'tools/train.py', config, '--work-dir']
        return subprocess.run(
            command + [work_dir, *args],
            cwd=repo_root,
            env=_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300)

    return run


@pytest.fixture
def start_training(repo_root: Path) -> Callable[..., subprocess.Popen]:
    """``start_training(config, work_dir, **env)``: tools/train.py in the
    background, its output in ``work_dir/console.log``."""

    def start(config: str, work_dir: str, **env: str) -> subprocess.Popen:
        command = [sys.executable, 'tools/train.py', config, '--work-dir']
        with open(osp.join(work_dir, 'console.log'), 'w') as log:
            return subprocess.Popen(
                command + [work_dir],
                cwd=repo_root,
                env=_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT)

    return start


def wait_for_checkpoint(proc: subprocess.Popen, work_dir: str) -> None:
    """Until ``last_checkpoint`` appears (epoch 1 saved)."""
    deadline = time.time() + 240
    record = osp.join(work_dir, 'last_checkpoint')
    while not osp.exists(record):
        assert proc.poll() is None, _console(work_dir)[-3000:]
        assert time.time() < deadline, 'no checkpoint within 240 s'
        time.sleep(0.05)


def _console(work_dir: str) -> str:
    with open(osp.join(work_dir, 'console.log')) as f:
        return f.read()


def _stat(pid: int) -> List[str]:
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()


def children(pid: int) -> List[int]:
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError):
                pass
    return found


def alive(pids: List[int]) -> List[int]:
    """The pids still running (zombies awaiting a reaper count as gone)."""
    running = []
    for pid in pids:
        try:
            if _stat(pid)[0] != 'Z':
                running.append(pid)
        except OSError:
            pass
    return running


def wait_gone(pids: List[int], seconds: float = 10) -> List[int]:
    deadline = time.time() + seconds
    while alive(pids) and time.time() < deadline:
        time.sleep(0.1)
    survivors = alive(pids)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # do not leave them to other tests
    return survivors


def weights(path: str) -> Dict[str, torch.Tensor]:
    return safe_torch_load(path, map_location='cpu')['state_dict']


def assert_bit_identical(path: str, reference: str) -> None:
    ours, theirs = weights(path), weights(reference)
    assert ours.keys() == theirs.keys()
    differing = [k for k in ours if not torch.equal(ours[k], theirs[k])]
    assert not differing, f'{len(differing)}/{len(ours)} tensors differ, ' \
        f'e.g. {differing[:3]}'


@pytest.fixture(scope='module')
def configs(tiny_quickstart, tmp_path_factory) -> Dict[str, str]:
    root = tmp_path_factory.mktemp('interruptions')
    tiny = tiny_quickstart(
        root,
        4,
        2,
        image_size=(64, 64),
        flip=True,
        train_dataloader=dict(num_workers=2, persistent_workers=True),
        train_cfg=dict(max_epochs=2, val_begin=1),
        default_hooks=dict(checkpoint=dict(max_keep_ckpts=1)))
    modules = root / 'modules'
    modules.mkdir()
    (modules / 'kill_during_save.py').write_text(KILLER_MODULE)
    killer = root / 'killer.py'
    # the tiny config's own hooks (the quickstart's) and the killer
    hooks = Config.fromfile(tiny).get(
        'custom_hooks', []) + [dict(type='KillDuringSaveHook', epoch=2)]
    killer.write_text(KILLER_CONFIG.format(tiny=tiny, hooks=hooks))
    return dict(tiny=tiny, killer=str(killer), modules=str(modules))


@pytest.fixture(scope='module')
def reference(configs, train, tmp_path_factory) -> str:
    """epoch_2.pth of a run that was never interrupted."""
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    result = train(configs['tiny'], work_dir)
    assert result.returncode == 0, result.stdout[-4000:]
    return osp.join(work_dir, 'epoch_2.pth')


def test_checkpoint_carries_every_ranks_random_states(reference):
    states = safe_torch_load(reference)[CHECKPOINT_KEY]
    assert states['version'] == 1 and len(states['ranks']) == 1
    assert {'python', 'numpy', 'torch'} <= set(states['ranks'][0])


def test_sigkill_during_a_save_resumes_exactly_without_orphans(
        configs, reference, train, start_training, tmp_path):
    # SIGKILL after epoch 1's checkpoint, inside epoch 2's save: the
    # moment mmengine's own hook would leave no complete checkpoint
    # (max_keep_ckpts=1 deletes epoch 1 before writing epoch 2).
    work_dir = str(tmp_path)
    proc = start_training(
        configs['killer'], work_dir, PYTHONPATH=configs['modules'])
    wait_for_checkpoint(proc, work_dir)
    workers = children(proc.pid)
    assert len(workers) >= 2, 'expected the two persistent workers'
    assert proc.wait(timeout=240) == -signal.SIGKILL, _console(work_dir)
    assert wait_gone(workers, seconds=10) == []
    names = os.listdir(work_dir)
    # Epoch 2's data sits in a temporary file that was never renamed.
    assert 'epoch_2.pth' not in names and 'epoch_1.pth' in names
    assert any(name.startswith('.epoch_2.pth.') for name in names)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work_dir, 'epoch_1.pth')

    result = train(configs['tiny'], work_dir, '--resume')
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'resumed epoch: 1' in result.stdout
    assert 'not bit-identically' not in result.stdout
    assert 'left by a checkpoint save that was killed' in result.stdout
    assert not any(name.startswith('.') for name in os.listdir(work_dir))
    assert_bit_identical(osp.join(work_dir, 'epoch_2.pth'), reference)


@pytest.mark.slow
def test_sigkill_in_epoch_2_resumes_exactly_with_other_workers(
        configs, reference, train, start_training, tmp_path):
    work_dir = str(tmp_path)
    proc = start_training(configs['tiny'], work_dir)
    wait_for_checkpoint(proc, work_dir)
    time.sleep(1.0)  # into validation or epoch 2
    workers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(workers) >= 2, 'expected the two persistent workers'
    assert wait_gone(workers, seconds=10) == []

    # Resumed in the main process, without workers: the data and the
    # random streams do not depend on the worker count or persistence.
    result = train(configs['tiny'], work_dir, '--resume', '--cfg-options',
                   'train_dataloader.num_workers=0',
                   'train_dataloader.persistent_workers=False')
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'resumed epoch: 1' in result.stdout
    assert_bit_identical(osp.join(work_dir, 'epoch_2.pth'), reference)


def test_sigterm_stops_with_one_line_and_no_orphans(configs, start_training,
                                                    tmp_path):
    work_dir = str(tmp_path)
    proc = start_training(configs['tiny'], work_dir)
    wait_for_checkpoint(proc, work_dir)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    assert wait_gone(workers, seconds=10) == []
    console = _console(work_dir)
    [line] = [x for x in console.splitlines() if 'Training stopped by' in x]
    assert 'SIGTERM' in line
    assert f'last complete checkpoint: {work_dir}/epoch_1.pth' in line
    assert 'resume with: python tools/train.py ' in line
    assert line.endswith('--resume')
    assert 'Traceback' not in console
