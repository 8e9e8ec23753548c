"""Make ``--resume`` continue a run exactly as if it had never stopped.

mmengine 0.10.7 checkpoints carry the model, optimizer, schedulers and the
seed, but not the random-number streams: a resumed run re-seeds its
generators at start-up, builds and initialises the model (which draws
from them), and then trains epoch ``e`` with streams an uninterrupted run
would only have used at epoch 1. The RPN/RoI samplers, the dataloader's
worker seeds (drawn from torch's global generator when an iterator
starts, which persistent workers do once per run) and the augmentations
of persistent workers all follow, so the weights drift apart from the
first resumed iteration (see docs/ for what is exact where).

:class:`ExactResumeHook` makes every epoch start from state that a
checkpoint carries or that (seed, epoch, rank) determines:

- at the end of each training epoch it captures every rank's Python,
  numpy, torch CPU and CUDA generator states (all-gathered to rank 0),
  stores them in the epoch's checkpoint under ``random_states`` and puts
  them back at the start of the next epoch, so whatever runs in between
  (validation, hooks) does not shift the streams; a resumed run puts back
  the checkpoint's;
- the training dataloader draws its worker seeds from its own generator,
  seeded from (seed, epoch, rank) at each epoch start, instead of from
  torch's global one;
- each sample's augmentation is seeded from (seed, epoch, sample index)
  (:mod:`.sample_seeding`).

A checkpoint without ``random_states`` (written before this hook existed,
by an iteration-based save, or with another world size) still resumes,
with a warning that the continuation is not exact. Only epoch-based
training loops are covered; others train as mmengine does, with a
warning.
"""
from typing import Any, List, Optional

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from .random_states import (RandomStates, capture_random_states, derive_seed,
                            restore_random_states)
from .sample_seeding import make_epoch_counter, seed_dataset_pipelines

__all__ = ['CHECKPOINT_KEY', 'ExactResumeHook']

CHECKPOINT_KEY = 'random_states'
FORMAT_VERSION = 1
# Separates the dataloader's worker-seed stream from the per-sample one.
LOADER_STREAM = 2


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Carry random-number states through checkpoints; reseed data per
    epoch.

    Runs before ``CheckpointHook`` in ``after_train_epoch`` (priority
    ``NORMAL`` < ``VERY_LOW``), so the states it captures are those the
    checkpoint of that epoch stores.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._active = False
        self._epoch_counter: Any = None
        self._generator: Optional[torch.Generator] = None
        # States of every rank at the end of the last training epoch.
        self._epoch_end_states: Optional[List[RandomStates]] = None
        self._epoch_end_iter: Optional[int] = None
        # States read from the checkpoint a resumed run started from.
        self._resumed_states: Optional[dict] = None
        self._resumed_from: Optional[str] = None

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Keep a resumed checkpoint's states for the first epoch."""
        if not getattr(runner, '_resume', False):
            return  # ``load_from``: new training, fresh streams
        self._resumed_from = str(
            getattr(runner, '_load_from', None) or 'the latest checkpoint')
        self._resumed_states = checkpoint.get(CHECKPOINT_KEY)
        if self._resumed_states is None:
            self._resumed_states = {}  # resumed, but nothing to restore

    def before_train(self, runner: Any) -> None:
        """Give the training dataloader its own seeds; seed the samples."""
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            runner.logger.warning(
                'ExactResumeHook covers epoch-based training loops only; '
                f'with {type(runner.train_loop).__name__} a resumed run '
                'does not continue bit-identically.')
            return
        self._active = True
        loader = runner.train_dataloader
        self._generator = torch.Generator()
        loader.generator = self._generator
        self._epoch_counter = make_epoch_counter(runner.epoch)
        seed_dataset_pipelines(loader.dataset, runner.seed,
                               self._epoch_counter)
        if self._resumed_states is not None:
            self._check_resumed_states(runner)

    def _check_resumed_states(self, runner: Any) -> None:
        states = self._resumed_states
        problem = None
        if not states:
            problem = ('has no random-number states (it was written '
                       'before gcnet_plugin saved them, or mid-epoch)')
        elif states.get('version') != FORMAT_VERSION:
            problem = (f'stores random-number states in format '
                       f'{states.get("version")!r}, not {FORMAT_VERSION}')
        elif len(states['ranks']) != get_world_size():
            problem = (f'was written by {len(states["ranks"])} processes, '
                       f'this run has {get_world_size()}')
        if problem is not None:
            self._resumed_states = None
            runner.logger.warning(
                f'Resuming from {self._resumed_from}, which {problem}: '
                'training continues, but not bit-identically to a run '
                'that was never stopped.')

    def before_train_epoch(self, runner: Any) -> None:
        """Put back the states the previous epoch ended with."""
        if not self._active:
            return
        epoch = runner.epoch
        self._epoch_counter.value = epoch
        self._generator.manual_seed(
            derive_seed(runner.seed, LOADER_STREAM, epoch, get_rank()))
        if self._resumed_states:
            ranks = self._resumed_states['ranks']
            self._resumed_states = None
            restore_random_states(ranks[get_rank()])
        elif self._epoch_end_states is not None:
            restore_random_states(self._epoch_end_states[get_rank()])

    def after_train_epoch(self, runner: Any) -> None:
        """Capture every rank's states (a collective: all ranks call it)."""
        if not self._active:
            return
        states = capture_random_states()
        if get_world_size() > 1:
            self._epoch_end_states = all_gather_object(states)
        else:
            self._epoch_end_states = [states]
        self._epoch_end_iter = runner.iter

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Store the epoch-end states in a checkpoint saved at an epoch
        end (rank 0 only, like the save itself)."""
        if (self._epoch_end_states is None
                or runner.iter != self._epoch_end_iter):
            return  # mid-epoch save: resuming from it is not exact
        checkpoint[CHECKPOINT_KEY] = dict(
            version=FORMAT_VERSION, ranks=self._epoch_end_states)
