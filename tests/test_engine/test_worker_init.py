"""Dataloader workers die with the process that started them."""
import multiprocessing
import os
import signal
import sys
import time

import numpy as np
import pytest
import torch

from gcnet_plugin.engine.worker_init import (die_with_parent,
                                             orphan_safe_worker_init)

FORK = multiprocessing.get_context('fork')


def _grandchild(request_death: bool) -> None:
    if request_death:
        die_with_parent()
    time.sleep(60)


def _parent(request_death: bool, pids) -> None:
    """Forks a child, as a dataloader starts a worker, and waits."""
    child = FORK.Process(target=_grandchild, args=(request_death, ))
    child.start()
    pids.put(child.pid)
    time.sleep(60)


def process_alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def _orphan_survives(request_death: bool, wait: float) -> bool:
    pids = FORK.Queue()
    parent = FORK.Process(target=_parent, args=(request_death, pids))
    parent.start()
    child = pids.get(timeout=30)
    time.sleep(0.3)  # let the child make its request
    os.kill(parent.pid, signal.SIGKILL)
    parent.join()
    deadline = time.time() + wait
    while process_alive(child) and time.time() < deadline:
        time.sleep(0.05)
    survived = process_alive(child)
    if survived:
        os.kill(child, signal.SIGKILL)
    return survived


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='prctl is Linux only')
def test_child_dies_when_its_parent_is_killed():
    assert _orphan_survives(False, wait=1)  # the problem
    assert not _orphan_survives(True, wait=5)  # the fix


def test_request_is_refused_gracefully_off_linux(monkeypatch):
    monkeypatch.setattr(sys, 'platform', 'darwin')
    assert die_with_parent() is False


def _numpy_draw(batch: list) -> float:
    return float(np.random.rand())


def test_workers_draw_different_numpy_numbers():
    """Replacing mmengine's worker init keeps numpy seeded per worker
    (torch's worker loop seeds numpy, `random` and torch)."""
    loader = torch.utils.data.DataLoader(
        list(range(4)),
        batch_size=1,
        num_workers=2,
        collate_fn=_numpy_draw,
        worker_init_fn=orphan_safe_worker_init,
        generator=torch.Generator().manual_seed(0))
    draws = list(loader)
    assert len(set(draws)) == 4
