"""Switch on exact resume, clean stops and crash-safe checkpoints.

``tools/train.py`` calls :func:`setup_training` on its config once
``work_dir`` and ``--resume`` are settled, before building the Runner.
It changes the config (so the dumped config and the checkpoint's ``meta``
show what ran) and the process:

- ``default_hooks.checkpoint``: mmengine's ``CheckpointHook`` becomes
  :class:`~.safe_checkpoint_hook.SafeCheckpointHook`;
- ``custom_hooks`` gain :class:`~.exact_resume_hook.ExactResumeHook` and
  :class:`~.signal_stop.SignalStopHook`;
- every dataloader without its own ``worker_init_fn`` gets
  :func:`~.worker_init.orphan_safe_worker_init`;
- ``--resume`` (auto) resumes from the newest *complete* checkpoint
  (:func:`~.checkpoint_files.find_resumable_checkpoint`); ``--resume
  PATH`` to a cut-short file raises :class:`~.checkpoint_files.
  IncompleteCheckpointError` naming it;
- torch's CPU threads are split between the machine's training and test
  processes (:func:`~.cpu_threads.setup_cpu_threads`), again as runs
  start and end (:class:`~.cpu_threads.CpuThreadsHook`).

``tools/test.py`` calls :func:`setup_testing`: the worker init and the
thread split.
"""
import os.path as osp
from typing import Any, Optional, Tuple

from mmengine.config import Config, ConfigDict

from .checkpoint_files import (check_checkpoint_complete,
                               find_resumable_checkpoint)
from .cpu_threads import setup_cpu_threads

__all__ = [
    'DATALOADERS', 'setup_testing', 'setup_training', 'use_orphan_safe_workers'
]

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_HOOKS = ('ExactResumeHook', 'SignalStopHook', 'CpuThreadsHook')
_TEST_HOOKS = ('CpuThreadsHook', )


def _type_name(cfg: Any) -> Optional[str]:
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    return kind if isinstance(kind, str) else getattr(kind, '__name__', None)


def _use_safe_checkpoint_hook(cfg: Config) -> None:
    hooks = cfg.get('default_hooks')
    checkpoint = hooks.get('checkpoint') if hooks else None
    if checkpoint is None:
        return
    if _type_name(checkpoint) in ('CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = 'SafeCheckpointHook'


def _add_hooks(cfg: Config, names: Tuple[str, ...] = _HOOKS) -> None:
    custom = list(cfg.get('custom_hooks') or [])
    present = {_type_name(hook) for hook in custom}
    for name in names:
        if name not in present:
            custom.append(ConfigDict(type=name))
    cfg.custom_hooks = custom


def use_orphan_safe_workers(cfg: Config) -> None:
    """Give every dataloader of ``cfg`` without its own ``worker_init_fn``
    :func:`~.worker_init.orphan_safe_worker_init` (also for testing)."""
    for key in DATALOADERS:
        loader = cfg.get(key)
        if isinstance(loader, dict) and 'worker_init_fn' not in loader:
            init = ConfigDict(type='orphan_safe_worker_init')
            if 'disable_subprocess_warning' in loader:
                # mmengine drops this key only for its own worker_init_fn
                init.disable_subprocess_warning = loader.pop(
                    'disable_subprocess_warning')
            loader['worker_init_fn'] = init


def _resolve_resume(cfg: Config) -> None:
    if not cfg.get('resume'):
        return
    load_from = cfg.get('load_from')
    if load_from is not None:
        # ``--resume PATH``: refuse a cut-short file with its name.
        if osp.isfile(load_from):
            check_checkpoint_complete(load_from)
        return
    found = find_resumable_checkpoint(cfg.work_dir)
    if found is not None:
        cfg.load_from = found
    else:
        # No last_checkpoint (a new run, as mmengine would start) or no
        # complete checkpoint left (warned): start over.
        cfg.resume = False


def setup_training(cfg: Config) -> Config:
    """Make ``cfg``'s run exactly resumable, stoppable and crash-safe.

    Args:
        cfg (Config): A training config with ``work_dir`` set, after
            ``--resume`` has set ``resume``/``load_from``. Changed in place.

    Returns:
        Config: ``cfg``.

    Raises:
        IncompleteCheckpointError: ``--resume PATH`` names a truncated
            checkpoint.
    """
    _use_safe_checkpoint_hook(cfg)
    _add_hooks(cfg)
    use_orphan_safe_workers(cfg)
    _resolve_resume(cfg)
    setup_cpu_threads()
    return cfg


def setup_testing(cfg: Config) -> Config:
    """Give a test run's dataloaders the orphan-safe worker init and split
    the CPU threads (as :func:`setup_training`).

    Args:
        cfg (Config): A test config. Changed in place.

    Returns:
        Config: ``cfg``.
    """
    _add_hooks(cfg, _TEST_HOOKS)
    use_orphan_safe_workers(cfg)
    setup_cpu_threads()
    return cfg
