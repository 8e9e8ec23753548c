"""Split a machine's CPU cores between the training and test processes
it runs.

torch starts as many intra-op threads as the machine has cores in every
process, so two trainings on one machine, or the N processes of one
distributed run, run 2 or N x cores threads, which wait on each other
(OpenMP threads spin while they wait) and can be many times slower than
one process (docs/training.md, CPU threads). :func:`setup_cpu_threads`
gives each process ``cores // processes`` threads, where ``cores`` are
those it may run on (``taskset``, cgroups) and ``processes`` the live
training and test processes of this plugin on those cores
(:mod:`.cpu_registry`), its own run counted as ``LOCAL_WORLD_SIZE``
processes. :class:`CpuThreadsHook` redoes the split as other runs start
and end, so the first run gives up cores to the next and takes them
back.

A user who sets ``OMP_NUM_THREADS`` keeps it. torchrun sets it to 1 for
several processes per machine; ``tools/dist_*.sh`` set it first and mark
it as theirs (``GCNET_CPU_THREADS=auto``, gcnet_plugin/cli/launch.sh), so
that without CUDA each process takes its share of the cores instead (with
CUDA torchrun's one thread per process stays: the dataloader workers do
the CPU work).
"""
import logging
import os
import time
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from .cpu_registry import (Entry, own_entry, processes_sharing, read_entries,
                           register)

__all__ = [
    'AUTO_ENV', 'CpuThreadsHook', 'available_cores', 'setup_cpu_threads',
    'share_threads'
]

AUTO_ENV = 'GCNET_CPU_THREADS'
OVERRIDE = 'set OMP_NUM_THREADS to choose'

# This process's entry once setup_cpu_threads() has chosen its threads.
_registered: Optional[Entry] = None


def available_cores() -> int:
    """Cores this process may run on (its affinity mask), at least 1."""
    if hasattr(os, 'sched_getaffinity'):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def share_threads(cores: int, processes: int) -> int:
    """``cores // processes``, at least 1."""
    return max(1, cores // max(1, processes))


def _users_setting() -> bool:
    """Whether ``OMP_NUM_THREADS`` decides (set by the user, or by a
    launcher on a CUDA machine)."""
    if not os.environ.get('OMP_NUM_THREADS'):
        return False
    if os.environ.get(AUTO_ENV) != 'auto':
        return True
    return torch.cuda.is_available()


def _rank() -> int:
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK'):
        value = os.environ.get(name, '')
        if value.isdigit():
            return int(value)
    return 0


def _split() -> tuple:
    entry = _registered or own_entry()
    processes = processes_sharing(entry, read_entries())
    cores = available_cores()
    return share_threads(cores, processes), cores, processes


def _describe(threads: int, cores: int, processes: int) -> str:
    return (f'CPU threads: {threads} per process ({cores} cores, '
            f'{processes} training/test process{"es" if processes > 1 else ""}'
            f' of gcnet_plugin on them); {OVERRIDE}.')


def setup_cpu_threads() -> Optional[int]:
    """Set torch's intra-op threads to this process's share of the cores.

    Registers the process (:func:`~.cpu_registry.register`) and logs one
    line from rank 0, e.g. ``CPU threads: 1 per process (2 cores, 2
    training/test processes of gcnet_plugin on them); set OMP_NUM_THREADS
    to choose.``

    Returns:
        int | None: The threads set, or None when ``OMP_NUM_THREADS``
        decides (torch already follows it).
    """
    global _registered
    if _users_setting():
        return None
    if _registered is None:
        entry = own_entry()
        register(entry)
        _registered = entry
    threads, cores, processes = _split()
    torch.set_num_threads(threads)
    if _rank() == 0:
        print_log(
            _describe(threads, cores, processes),
            logger='current',
            level=logging.INFO)
    return threads


@HOOKS.register_module()
class CpuThreadsHook(Hook):
    """Redo the split of :func:`setup_cpu_threads` every ``interval``
    seconds, between iterations, as other runs start and end.

    Does nothing in a process whose threads ``OMP_NUM_THREADS`` decides
    (or that did not call :func:`setup_cpu_threads`).

    Args:
        interval (float): Seconds between looks. Defaults to 10.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: float = 10.) -> None:
        self.interval = interval
        self._next = time.monotonic() + interval

    def _rebalance(self, runner) -> None:
        if _registered is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.interval
        threads, cores, processes = _split()
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
            runner.logger.info(_describe(threads, cores, processes))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        self._rebalance(runner)

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._rebalance(runner)

    def before_test_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None) -> None:
        self._rebalance(runner)
