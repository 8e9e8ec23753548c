"""A dataloader ``worker_init_fn`` whose workers never outlive training.

When the training process dies without shutting its dataloader down
(SIGKILL, the out-of-memory killer, a default SIGTERM), its workers are
re-parented to init and can block for good: each holds the read end of
the shared result queue, so a worker whose queue feeder is writing a
batch waits forever for a reader. :func:`orphan_safe_worker_init` asks
Linux to SIGKILL the worker when its parent dies (``prctl(PR_SET_
PDEATHSIG)``) and ignores SIGINT: a Ctrl-C in a terminal reaches the
whole process group, and a worker that quit on it would make the training
process fail on its next batch instead of stopping cleanly
(:mod:`.signal_stop`) and shutting its workers down. SIGTERM keeps
torch's handling: multiprocessing ends workers with it at exit.

Unlike mmengine's ``worker_init_fn``, it keeps the seeds torch gives each
worker (from the loader's base seed and the worker id), which
:class:`~.exact_resume_hook.ExactResumeHook` makes a function of (seed,
epoch, rank).
"""
import ctypes
import multiprocessing
import os
import signal
import sys
import warnings

from mmengine.registry import FUNCTIONS

__all__ = ['die_with_parent', 'orphan_safe_worker_init']

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies.

    Linux only. If the parent is already gone when this runs, exits at
    once.

    Args:
        sig (int): The signal. Defaults to SIGKILL (a worker may be blocked
            in a system call, where SIGTERM would not end it).

    Returns:
        bool: Whether the request was made (False off Linux or if libc
        refuses it).
    """
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)  # the parent died before the request was made
    return True


@FUNCTIONS.register_module()
def orphan_safe_worker_init(worker_id: int,
                            disable_subprocess_warning: bool = False) -> None:
    """Dataloader ``worker_init_fn``: die with the training process.

    Config: ``worker_init_fn=dict(type='orphan_safe_worker_init')`` in a
    dataloader (``gcnet_plugin.engine.setup_training`` adds it).

    Args:
        worker_id (int): Given by the DataLoader.
        disable_subprocess_warning (bool): Silence warnings in all
            workers but the first, as mmengine's option does. Defaults to
            False.
    """
    die_with_parent()
    # Stopping on Ctrl-C is the training process's job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if disable_subprocess_warning and worker_id != 0:
        warnings.simplefilter('ignore')
