"""Side-by-side timing in one process, for the benchmark tools.

Machines here are shared and noisy, so the cases of a comparison run in
interleaved rounds (every case once per round, the order rotating each
round) and the tools report medians and ratios, never single timings
(see docs/benchmarks.md). On CUDA, :func:`kernel_ms` adds the device time
of the same work, without the host's launch gaps.
"""
import argparse
import platform
import time
from typing import Callable, Dict, List, Optional, Tuple

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


def interleaved_times(
    cases: Dict[str, Callable[[], None]],
    device: str,
    warmup: int,
    repeats: int,
    after: Optional[Dict[str, Callable[[], None]]] = None
) -> Dict[str, List[float]]:
    """Seconds of each synchronised call, ``repeats`` rounds per case.

    Round ``r`` runs every case once, starting at case ``r mod len``;
    the first ``warmup`` rounds are not kept. Round ``i`` of every list
    ran in the same round, so paired differences are meaningful.
    ``after[k]``, if given, runs untimed right after each call of case
    ``k`` (to undo what it changed, say).
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
            if after is not None:
                after[k]()
    return times


def default_rounds(device: str,
                   repeats: Optional[int] = None,
                   warmup: Optional[int] = None,
                   cpu_repeats: int = 5) -> Tuple[int, int]:
    """``(repeats, warmup)``: the given ones, else 20 and 3 timed and
    untimed rounds on CUDA, ``cpu_repeats`` and 1 on the CPU."""
    on_cuda = device == 'cuda'
    if repeats is None:
        repeats = 20 if on_cuda else cpu_repeats
    if warmup is None:
        warmup = 3 if on_cuda else 1
    return repeats, warmup


def add_device_args(parser: argparse.ArgumentParser, cpu_repeats: int) -> None:
    """The options every benchmark tool has: ``--device`` (default
    cuda), ``--repeats`` and ``--warmup`` (default: :func:`default_rounds`
    with ``cpu_repeats``), ``--json``."""
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    parser.add_argument(
        '--repeats',
        type=int,
        help=f'timed rounds (default 20 CUDA, {cpu_repeats} CPU)')
    parser.add_argument(
        '--warmup', type=int, help='untimed rounds (default 3 CUDA, 1 CPU)')
    parser.add_argument('--json', help='write the results here')


def check_device(parser: argparse.ArgumentParser,
                 args: argparse.Namespace) -> None:
    """Exit with a usage error for ``--device cuda`` without CUDA."""
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device; use --device cpu')


def kernel_ms(fn: Callable[[], None], iters: int) -> Optional[float]:
    """CUDA kernel time of one ``fn()``, averaged over ``iters`` calls.

    The sum of the kernel times ``torch.profiler`` attributes to the ops:
    what the work costs inside a network that keeps the GPU busy. None
    (and a line saying why) where the profiler cannot tell.
    """
    try:
        from torch.profiler import ProfilerActivity, profile
        fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA
                                 ]) as prof:
            for _ in range(iters):
                fn()
            torch.cuda.synchronize()
        total_us = sum(e.self_device_time_total for e in prof.events()
                       if e.device_type.name == 'CPU'
                       and not e.name.startswith('Activity Buffer'))
        return total_us / iters / 1e3
    except Exception as e:  # noqa: BLE001  (report it, keep the rest)
        print(f'# device time unavailable: {e!r}')
        return None
