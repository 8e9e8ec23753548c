"""CPU threads: cores split between the local processes of a run."""
import pytest
import torch

from gcnet_plugin.engine import cpu_threads
from gcnet_plugin.engine.cpu_threads import setup_cpu_threads


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize('cores,local,expected', [(16, None, 16), (16, '4', 4),
                                                  (16, '3', 5), (2, '4', 1)])
def test_threads_are_cores_over_local_processes(cores, local, expected,
                                                monkeypatch, restore_threads):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    if local is None:
        monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    else:
        monkeypatch.setenv('LOCAL_WORLD_SIZE', local)
    monkeypatch.setattr(cpu_threads, 'available_cores', lambda: cores)
    assert setup_cpu_threads() == expected
    assert torch.get_num_threads() == expected


def test_user_setting_is_kept(monkeypatch, restore_threads):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '1')
    torch.set_num_threads(1)
    monkeypatch.setattr(cpu_threads, 'available_cores', lambda: 8)
    assert setup_cpu_threads() is None
    assert torch.get_num_threads() == 1
