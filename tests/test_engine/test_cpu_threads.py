"""CPU threads: cores split between the machine's training and test
processes."""
import multiprocessing
import os
import signal

import pytest
import torch

from gcnet_plugin.engine import cpu_registry, cpu_threads
from gcnet_plugin.engine.cpu_registry import (Entry, own_entry,
                                              processes_sharing, read_entries,
                                              register)
from gcnet_plugin.engine.cpu_threads import (CpuThreadsHook, setup_cpu_threads,
                                             share_threads)

FORK = multiprocessing.get_context('fork')
ALL = frozenset(range(8))


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """An empty registry; this process unregistered; threads restored."""
    threads = torch.get_num_threads()
    monkeypatch.setenv(cpu_registry.REGISTRY_ENV, str(tmp_path))
    for name in ('OMP_NUM_THREADS', cpu_threads.AUTO_ENV, 'LOCAL_WORLD_SIZE',
                 'RANK'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cpu_threads, '_registered', None)
    monkeypatch.setattr(cpu_threads, 'available_cores', lambda: 8)
    yield tmp_path
    torch.set_num_threads(threads)


def other(pid, run=None, size=1, cpus=ALL):
    return Entry(pid, None, run or str(pid), size, frozenset(cpus))


@pytest.mark.parametrize('cores,processes,expected', [(16, 1, 16), (16, 4, 4),
                                                      (16, 3, 5), (2, 4, 1),
                                                      (2, 2, 1)])
def test_threads_are_cores_over_processes(cores, processes, expected):
    assert share_threads(cores, processes) == expected


def test_processes_sharing_counts_runs_and_overlapping_cores():
    me = other(10, run='torchrun-5', size=2)
    assert processes_sharing(me, []) == 2  # its run, before it registers
    assert processes_sharing(me, [me, other(11, 'torchrun-5', 2)]) == 2
    assert processes_sharing(me, [other(20)]) == 3  # a separate training
    assert processes_sharing(me, [other(30, 'torchrun-9', 4)]) == 6
    # Pinned to other cores (taskset, Slurm): not sharing.
    assert processes_sharing(me, [other(40, cpus={8, 9})]) == 2


def _registered_child(folder, ready) -> None:
    register(own_entry(), folder)
    ready.set()
    signal.pause()


def test_registry_counts_live_processes_and_drops_stale_ones(registry):
    mine = own_entry()
    assert register(mine, str(registry)) == str(registry / f'{os.getpid()}'
                                                '.json')
    ready = FORK.Event()
    child = FORK.Process(target=_registered_child, args=(registry, ready))
    child.start()
    try:
        assert ready.wait(30)
        entries = read_entries(str(registry))
        assert [e.pid for e in entries] == sorted([os.getpid(), child.pid])
        assert processes_sharing(mine, entries) == 2
    finally:
        os.kill(child.pid, signal.SIGKILL)  # its file stays behind
        child.join()
    assert (registry / f'{child.pid}.json').exists()
    # A dead pid, a reused pid (another start time) and a broken file.
    (registry / '999999999.json').write_text(
        '{"pid": 999999999, "start": null, "run": "1", "run_size": 1, '
        '"cpus": [0]}')
    (registry / f'{os.getppid()}.json').write_text(
        f'{{"pid": {os.getppid()}, "start": "1", "run": "1", "run_size": 1,'
        ' "cpus": [0]}')
    (registry / '12.json').write_text('{')
    assert [e.pid for e in read_entries(str(registry))] == [os.getpid()]
    assert sorted(os.listdir(registry)) == [f'{os.getpid()}.json']


def test_setup_takes_its_share_and_says_how_to_override(registry, monkeypatch):
    lines = []
    monkeypatch.setattr(cpu_threads, 'print_log',
                        lambda line, **kwargs: lines.append(line))
    register(other(os.getppid()), str(registry))  # a live training
    assert setup_cpu_threads() == 4
    assert torch.get_num_threads() == 4
    assert (registry / f'{os.getpid()}.json').exists()
    assert lines == [
        'CPU threads: 4 per process (8 cores, 2 training/test processes of '
        'gcnet_plugin on them); set OMP_NUM_THREADS to choose.'
    ]


def test_user_setting_is_kept(registry, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    assert setup_cpu_threads() is None
    assert torch.get_num_threads() == 1
    assert os.listdir(registry) == []  # does not take a share


def test_the_launchers_setting_is_replaced_without_cuda(registry, monkeypatch):
    # tools/dist_train.sh CONFIG 2 on a CPU machine (launch.sh).
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.setenv(cpu_threads.AUTO_ENV, 'auto')
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert setup_cpu_threads() == 4
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(cpu_threads, '_registered', None)
    assert setup_cpu_threads() is None  # torchrun's 1 per GPU process


def test_hook_gives_cores_up_and_takes_them_back(registry, fake_runner):
    assert setup_cpu_threads() == 8
    hook, runner = CpuThreadsHook(interval=0), fake_runner()
    later = register(other(os.getppid()), str(registry))  # starts
    hook.before_train_iter(runner, 0)
    assert torch.get_num_threads() == 4
    os.remove(later)  # ends
    hook.before_val_iter(runner, 0)
    assert torch.get_num_threads() == 8
    hook.before_test_iter(runner, 0)  # no change, no line
    assert [line.split(' (')[0] for line in runner.logger.infos
            ] == ['CPU threads: 4 per process', 'CPU threads: 8 per process']
    assert runner.logger.warnings == []


def test_hook_leaves_a_users_setting_alone(registry, fake_runner, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    setup_cpu_threads()
    register(other(os.getppid()), str(registry))
    CpuThreadsHook(interval=0).before_train_iter(fake_runner(), 0)
    assert torch.get_num_threads() == 1
