"""Random-number states: capture/restore, checkpoint round trip, seeds."""
import io
import random

import numpy as np
import torch

from gcnet_plugin.compat import safe_torch_load
from gcnet_plugin.engine.random_states import (capture_random_states,
                                               derive_seed,
                                               restore_random_states,
                                               seeded_random_states)


def _draw() -> tuple:
    draws = [
        random.random(),
        np.random.rand(),
        torch.rand(()),
        np.random.randn(),  # after rand(): may use numpy's cached Gaussian
    ]
    return tuple(float(x) for x in draws)


def test_restore_replays_every_generator():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    _draw()  # leave numpy with a cached Gaussian, the subtle part
    states = capture_random_states()
    first = _draw()
    restore_random_states(states)
    assert _draw() == first


def test_states_survive_a_checkpoint_and_the_safe_loader():
    # The states go into mmengine checkpoints, which --resume reads
    # through the restricted unpickler.
    states = capture_random_states()
    first = _draw()
    buffer = io.BytesIO()
    torch.save(dict(random_states=dict(version=1, ranks=[states])), buffer)
    buffer.seek(0)
    loaded = safe_torch_load(buffer)['random_states']['ranks'][0]
    _draw()
    restore_random_states(loaded)
    assert _draw() == first


def test_derive_seed_is_deterministic_and_separates_keys():
    assert derive_seed(0, 1, 2) == derive_seed(0, 1, 2)
    seeds = {
        derive_seed(0, epoch, rank)
        for epoch in range(4)
        for rank in range(4)
    }
    assert len(seeds) == 16
    # seed + rank would make (0, 1) and (1, 0) collide.
    assert derive_seed(0, 1) != derive_seed(1, 0)
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_seeded_block_is_reproducible_and_leaves_caller_state():
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    before = capture_random_states()
    with seeded_random_states(123):
        inside = _draw()
    after_block = _draw()
    restore_random_states(before)
    assert _draw() == after_block  # the block did not consume the streams
    with seeded_random_states(123):
        assert _draw() == inside
    with seeded_random_states(124):
        assert _draw() != inside
