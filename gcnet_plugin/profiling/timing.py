"""Side-by-side timing in one process, for the benchmark tools.

Machines here are shared and noisy, so the cases of a comparison run in
interleaved rounds (every case once per round, the order rotating each
round) and the tools report medians and ratios, never single timings.
"""
import platform
import time
from typing import Callable, Dict, List

import torch


def sync(device: str) -> None:
    """Wait for the device's queued work (CUDA); nothing on CPU."""
    if device == 'cuda':
        torch.cuda.synchronize()


def device_label(device: str) -> str:
    """The GPU's name, or the CPU and its thread count."""
    if device == 'cuda':
        return torch.cuda.get_device_name()
    return (f'{platform.processor() or platform.machine()} CPU, '
            f'{torch.get_num_threads()} threads')


def interleaved_times(cases: Dict[str, Callable[[], None]], device: str,
                      warmup: int, repeats: int) -> Dict[str, List[float]]:
    """Seconds of each synchronised call, ``repeats`` rounds per case.

    Round ``r`` runs every case once, starting at case ``r mod len``;
    the first ``warmup`` rounds are not kept. Round ``i`` of every list
    ran in the same round, so paired differences are meaningful.
    """
    times: Dict[str, List[float]] = {k: [] for k in cases}
    order = list(cases)
    for r in range(warmup + repeats):
        rot = r % len(order)
        for k in order[rot:] + order[:rot]:
            sync(device)
            t0 = time.perf_counter()
            cases[k]()
            sync(device)
            if r >= warmup:
                times[k].append(time.perf_counter() - t0)
    return times
