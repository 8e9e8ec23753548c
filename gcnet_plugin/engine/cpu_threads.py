"""Split a machine's CPU cores between the training processes it runs.

torch starts as many intra-op threads as the machine has cores in every
process, so N processes of one distributed run on one machine run N x
cores threads, which wait on each other (OpenMP threads spin while they
wait) and can be many times slower than one process. :func:`setup_cpu_
threads` gives each process ``cores / local processes`` threads, where
``cores`` are those this process may run on (``taskset``, cgroups) and
the local processes are ``LOCAL_WORLD_SIZE`` (set by torchrun). A user
who sets ``OMP_NUM_THREADS`` keeps it.
"""
import os
from typing import Optional

import torch

__all__ = ['available_cores', 'setup_cpu_threads']


def available_cores() -> int:
    """Cores this process may run on (its affinity mask), at least 1."""
    if hasattr(os, 'sched_getaffinity'):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def setup_cpu_threads() -> Optional[int]:
    """Set torch's intra-op threads to this process's share of the cores.

    Returns:
        int | None: The threads set, or None when ``OMP_NUM_THREADS`` is
        set (torch already follows it).
    """
    if os.environ.get('OMP_NUM_THREADS'):
        return None
    local_processes = max(1, int(os.environ.get('LOCAL_WORLD_SIZE', '1')))
    threads = max(1, available_cores() // local_processes)
    torch.set_num_threads(threads)
    return threads
