"""Training that survives being stopped: exact resume, clean stops,
crash-safe checkpoints, CPU threads split between processes; a
channels_last backbone for CPU training.

Importing :mod:`gcnet_plugin` registers the hooks (``ExactResumeHook``,
``SafeCheckpointHook``, ``SignalStopHook``, ``CpuThreadsHook``), the
dataloader ``worker_init_fn`` (``orphan_safe_worker_init``) and the
``local_atomic`` file backend; :func:`setup_training` puts them into a
training config, :func:`setup_testing` into a test config. A config
chooses ``ChannelsLastBackboneHook`` itself (``custom_hooks``).
"""
from .atomic_files import AtomicLocalBackend, atomic_write
from .channels_last import ChannelsLastBackboneHook, channels_last_backbone
from .checkpoint_files import (IncompleteCheckpointError,
                               check_checkpoint_complete,
                               find_resumable_checkpoint)
from .cpu_threads import CpuThreadsHook, setup_cpu_threads
from .exact_resume_hook import ExactResumeHook
from .random_states import (capture_random_states, derive_seed,
                            restore_random_states)
from .safe_checkpoint_hook import SafeCheckpointHook
from .sample_seeding import SeededPipeline
from .signal_stop import SignalStopHook, resume_command
from .training_setup import (setup_testing, setup_training,
                             use_orphan_safe_workers)
from .worker_init import orphan_safe_worker_init

__all__ = [
    'AtomicLocalBackend', 'ChannelsLastBackboneHook', 'CpuThreadsHook',
    'ExactResumeHook', 'IncompleteCheckpointError', 'SafeCheckpointHook',
    'SeededPipeline', 'SignalStopHook', 'atomic_write',
    'capture_random_states', 'channels_last_backbone',
    'check_checkpoint_complete', 'derive_seed', 'find_resumable_checkpoint',
    'orphan_safe_worker_init', 'restore_random_states', 'resume_command',
    'setup_cpu_threads', 'setup_testing', 'setup_training',
    'use_orphan_safe_workers'
]
