"""Seed each sample's data augmentation from (seed, epoch, sample index).

A dataloader worker draws its augmentations (``RandomFlip``, random
crops, ...) from the global generators it was seeded with when it
started. With ``persistent_workers=True`` (MMDetection's default) a worker
starts once per run, so epoch 2's flips continue epoch 1's stream in an
uninterrupted run but start afresh in a run resumed at epoch 2; which
worker loads which sample also depends on ``num_workers``. Seeding every
sample instead makes its augmentation a pure function of (seed, epoch,
dataset, index), whatever the worker count, the persistence or the
process that loads it.

:class:`SeededPipeline` wraps a dataset's ``pipeline``: it runs the
pipeline inside :func:`~.random_states.seeded_random_states`, so the
caller's generators (the training process's, when ``num_workers=0``) are
left as they were. The epoch lives in shared memory
(:func:`make_epoch_counter`), so persistent workers see the main process
move it at each epoch start (all of an epoch's samples are loaded before
the next epoch's indices are sent).
"""
import multiprocessing
from numbers import Integral
from typing import Any, Callable, Iterator, List

from torch.utils.data import Dataset

from .random_states import derive_seed, seeded_random_states

__all__ = [
    'SeededPipeline', 'make_epoch_counter', 'seed_dataset_pipelines',
    'walk_datasets'
]

# Separates per-sample seeds from the other streams derived from the seed.
SAMPLE_STREAM = 1


def make_epoch_counter(epoch: int = 0) -> Any:
    """An int64 in shared memory that worker processes read.

    Args:
        epoch (int): Initial value. Defaults to 0.

    Returns:
        ``multiprocessing.RawValue``: set and read through ``.value``.
    """
    return multiprocessing.RawValue('q', epoch)


class SeededPipeline:
    """A data pipeline run with generators seeded for the sample it loads.

    The seed is ``derive_seed(seed, SAMPLE_STREAM, epoch, salt, index)``
    with ``index`` the ``sample_idx`` that mmengine's ``BaseDataset``
    puts into every sample's info; a sample without one runs unseeded.

    Args:
        pipeline (callable): The dataset's pipeline (``Compose``).
        seed (int): The run's seed.
        epoch: Shared counter from :func:`make_epoch_counter`.
        salt (int): Tells apart datasets of one loader (the members of a
            ``ConcatDataset`` number their samples from 0 each).
    """

    def __init__(self, pipeline: Callable[[dict], Any], seed: int, epoch: Any,
                 salt: int) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.epoch = epoch
        self.salt = salt

    def __call__(self, results: dict) -> Any:
        index = results.get('sample_idx')
        if not isinstance(index, Integral) or index < 0:
            return self.pipeline(results)
        seed = derive_seed(self.seed, SAMPLE_STREAM, self.epoch.value,
                           self.salt, int(index))
        with seeded_random_states(seed):
            return self.pipeline(results)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the wrapper lacks (``transforms``);
        # ``pipeline`` itself is missing while unpickling.
        if name == 'pipeline':
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def __repr__(self) -> str:
        return f'SeededPipeline(salt={self.salt}, {self.pipeline!r})'


def walk_datasets(dataset: Any) -> Iterator[Any]:
    """``dataset`` and the datasets it wraps, depth first, in a fixed order.

    Follows ``.dataset`` (``RepeatDataset``, ``ClassBalancedDataset``,
    mmengine's ``_SlicedDataset``) and ``.datasets`` (``ConcatDataset``).
    """
    yield dataset
    inner = getattr(dataset, 'dataset', None)
    if isinstance(inner, Dataset):
        yield from walk_datasets(inner)
    for member in getattr(dataset, 'datasets', None) or ():
        if isinstance(member, Dataset):
            yield from walk_datasets(member)


def seed_dataset_pipelines(dataset: Any, seed: int,
                           epoch: Any) -> List[SeededPipeline]:
    """Wrap every callable ``pipeline`` under ``dataset`` in SeededPipeline.

    Call it in the main process before the dataloader starts workers.
    Pipelines already wrapped are left as they are; a ``pipeline`` that is
    a list (MMDetection's ``MultiImageMixDataset``) is not wrapped.

    Args:
        dataset: The training dataloader's dataset.
        seed (int): The run's seed.
        epoch: Shared counter from :func:`make_epoch_counter`.

    Returns:
        list[SeededPipeline]: The wrappers now in place.
    """
    wrapped = []
    for salt, member in enumerate(walk_datasets(dataset)):
        pipeline = getattr(member, 'pipeline', None)
        if isinstance(pipeline, SeededPipeline):
            wrapped.append(pipeline)
        elif callable(pipeline):
            member.pipeline = SeededPipeline(pipeline, seed, epoch, salt)
            wrapped.append(member.pipeline)
    return wrapped
