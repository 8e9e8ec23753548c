"""Per-sample seeding: augmentations independent of workers and order."""
import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from gcnet_plugin.engine.sample_seeding import (SeededPipeline,
                                                make_epoch_counter,
                                                seed_dataset_pipelines,
                                                walk_datasets)


def random_pipeline(results: dict) -> tuple:
    """Stands for RandomFlip & co: draws from every global generator."""
    return (results['sample_idx'], random.random(), float(np.random.rand()),
            float(torch.rand(())))


class ToyDataset(Dataset):
    """mmengine-like: puts ``sample_idx`` into the info it pipes."""

    def __init__(self, size: int = 6) -> None:
        self.size = size
        self.pipeline = random_pipeline

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, idx: int) -> tuple:
        return self.pipeline(dict(sample_idx=idx))


class Wrapper(Dataset):
    """A RepeatDataset-like wrapper."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> tuple:
        return self.dataset[idx]


def _epoch_samples(loader: DataLoader, epoch_counter, epoch: int) -> dict:
    epoch_counter.value = epoch
    return {sample[0]: sample for sample in loader}


def test_sample_depends_only_on_seed_epoch_and_index():
    epoch = make_epoch_counter(0)
    pipeline = SeededPipeline(random_pipeline, seed=7, epoch=epoch, salt=0)
    first = [pipeline(dict(sample_idx=i)) for i in range(4)]
    # Another order, other draws in between: same result per index.
    np.random.rand(10)
    assert [pipeline(dict(sample_idx=i)) for i in reversed(range(4))] == \
        first[::-1]
    epoch.value = 1
    assert all(a != b for a, b in zip(
        first, [pipeline(dict(sample_idx=i)) for i in range(4)]))
    other_seed = SeededPipeline(random_pipeline, 8, make_epoch_counter(), 0)
    assert other_seed(dict(sample_idx=0)) != first[0]


def test_pipeline_leaves_the_callers_generators_alone():
    pipeline = SeededPipeline(random_pipeline, 7, make_epoch_counter(), 0)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    pipeline(dict(sample_idx=3))
    assert torch.equal(torch.rand(3), expected)


def test_walk_and_wrap_reach_inner_datasets_once():
    inner = ToyDataset()
    outer = Wrapper(inner)
    assert list(walk_datasets(outer)) == [outer, inner]
    epoch = make_epoch_counter()
    wrapped = seed_dataset_pipelines(outer, 7, epoch)
    assert len(wrapped) == 1 and inner.pipeline is wrapped[0]
    # Idempotent: a second call keeps the wrapper.
    assert seed_dataset_pipelines(outer, 7, epoch) == wrapped


@pytest.mark.parametrize('num_workers,persistent', [(2, True), (1, False)])
def test_workers_give_the_main_process_samples(num_workers, persistent):
    # The reference: the pipeline run in the main process.
    reference_set = ToyDataset()
    reference_epoch = make_epoch_counter()
    seed_dataset_pipelines(reference_set, 3, reference_epoch)
    reference = DataLoader(reference_set, batch_size=None, num_workers=0)

    dataset = ToyDataset()
    epoch = make_epoch_counter()
    seed_dataset_pipelines(dataset, 3, epoch)
    loader = DataLoader(
        dataset,
        batch_size=None,
        shuffle=True,
        num_workers=num_workers,
        persistent_workers=persistent)
    for e in range(2):  # persistent workers must follow the epoch counter
        expected = _epoch_samples(reference, reference_epoch, e)
        assert _epoch_samples(loader, epoch, e) == expected
    assert expected != _epoch_samples(reference, reference_epoch, 0)
