"""The random-number states of a process: capture, restore, derive.

Training draws from four generators: Python's ``random``, numpy's legacy
global ``np.random`` (mmcv's transforms), torch's CPU generator (the
RPN/RoI samplers on CPU, dropout, ``randperm``) and torch's CUDA
generators (the same on GPU). :func:`capture_random_states` and
:func:`restore_random_states` move all of them in and out of a checkpoint;
:func:`derive_seed` turns a tuple of integers (seed, epoch, rank, sample,
...) into an independent 32-bit seed; :func:`seeded_random_states` runs a
block with all CPU generators seeded and restores them afterwards.
"""
import random
from contextlib import contextmanager
from typing import Any, Dict, Iterator

import numpy as np
import torch

__all__ = [
    'capture_random_states', 'derive_seed', 'restore_random_states',
    'seeded_random_states'
]

RandomStates = Dict[str, Any]


def capture_random_states() -> RandomStates:
    """The current states of this process's random-number generators.

    Returns:
        dict: ``python`` (``random.getstate()``), ``numpy``
        (``np.random.get_state()``), ``torch`` (CPU generator, uint8
        tensor) and, when CUDA is initialised, ``cuda`` (one uint8 tensor
        per visible device). Every value pickles into an mmengine
        checkpoint and loads through the restricted unpickler of
        :mod:`gcnet_plugin.compat.safe_pickle`.
    """
    states: RandomStates = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: RandomStates) -> None:
    """Put the generators back into ``states``.

    Args:
        states (dict): As returned by :func:`capture_random_states`. CUDA
            states are restored for the devices both the states and this
            process have.
    """
    random.setstate(_as_python_state(states['python']))
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'].cpu())
    cuda_states = states.get('cuda')
    if cuda_states and torch.cuda.is_available():
        for device, state in enumerate(cuda_states):
            if device < torch.cuda.device_count():
                torch.cuda.set_rng_state(state.cpu(), device)


def _as_python_state(state: Any) -> tuple:
    """``random.setstate`` wants tuples; a round trip may give lists."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


def derive_seed(*keys: int) -> int:
    """An independent 32-bit seed for a tuple of non-negative integers.

    ``derive_seed(seed, epoch, rank)`` and ``derive_seed(seed, epoch,
    rank + 1)`` give unrelated streams (numpy's ``SeedSequence`` hashing),
    unlike ``seed + rank``, which makes neighbouring runs share streams.

    Args:
        *keys (int): Non-negative integers, e.g. (seed, epoch, rank).

    Returns:
        int: A seed in ``[0, 2**32)`` valid for ``random``, numpy and torch.
    """
    sequence = np.random.SeedSequence([int(key) for key in keys])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


@contextmanager
def seeded_random_states(seed: int) -> Iterator[None]:
    """Seed Python, numpy and torch CPU generators; restore them on exit.

    CUDA generators are left alone (data pipelines do not use them, and
    ``torch.manual_seed`` would reseed them in the training process).

    Args:
        seed (int): The seed, in ``[0, 2**32)``.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
