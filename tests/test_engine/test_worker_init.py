"""Dataloader workers die with the process that started them."""
import os
import signal
import subprocess
import sys
import time

import pytest

from gcnet_plugin.engine.worker_init import die_with_parent

# A parent whose child (forked as a dataloader worker is) sleeps for a
# minute unless die_with_parent() ends it with the parent.
PARENT = """
import multiprocessing as mp, sys, time
from gcnet_plugin.engine.worker_init import die_with_parent

def child(flag):
    if flag:
        die_with_parent()
    time.sleep(60)

if __name__ == '__main__':
    proc = mp.get_context('fork').Process(
        target=child, args=(sys.argv[1] == '1', ))
    proc.start()
    print(proc.pid, flush=True)
    time.sleep(60)
"""


def process_alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def _orphan_survives(with_parent_death: bool, wait: float) -> bool:
    parent = subprocess.Popen(
        [sys.executable, '-c', PARENT, '1' if with_parent_death else '0'],
        stdout=subprocess.PIPE,
        text=True)
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # let the child make its request
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + wait
    while process_alive(child) and time.time() < deadline:
        time.sleep(0.1)
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
