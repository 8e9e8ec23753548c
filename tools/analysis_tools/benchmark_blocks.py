"""Time and memory of the blocks, forward + backward, vs mmcv's GC block.

Runs, in one process, our ``ContextBlock`` and ``mmcv.cnn.ContextBlock``
(r16, att + add) on the c3/c4/c5 maps of Mask R-CNN R-50 at 800x1333,
batch 2 (``[2, 512, 100, 168]``, ``[2, 1024, 50, 84]``,
``[2, 2048, 25, 42]``), plus our SNL and SE on the same maps and our
NonLocal (and mmcv's NonLocal2d) on the c4 map. Repeats are interleaved
(every case once per round, rotating the order) and the median is kept:
``ms`` is the host's wall time of one synchronised forward + backward
(launch overheads included: at batch 2 these small blocks are launch-bound
on a GPU), ``dev ms`` (CUDA only) the kernel time of the same work from
``torch.profiler``. Before timing, our GC block is checked against
mmcv's with copied, non-zero weights (max |diff| of outputs and input
gradients). Figures: ``x mmcv`` is each value over mmcv's GC block's.

Memory, per case and iteration:

- ``saved``: bytes of the tensors autograd keeps for backward
  (``torch.autograd.graph.saved_tensors_hooks``; distinct storages, the
  input and the parameters excluded). Same on every device.
- ``peak``: extra memory at the peak of forward + backward above what
  was allocated before it: ``torch.cuda.max_memory_allocated`` on CUDA;
  on CPU the peak of ``torch.profiler``'s memory timeline (a private
  API; ``-`` where it fails).

Memory traffic: ``passes`` is the bytes the dispatched ops of one
forward + backward read and write, in units of the input map
(``gcnet_plugin.profiling``; counted in fp32 on meta tensors, so the same
on every machine). At batch 2 the blocks are memory-bound: this is what
their kernel time follows on a device kept busy by the network around
them.

Regimes: full-size maps measure that bandwidth-bound cost (on CPU the
wall time is all kernel time). ``--map-size 1 1`` keeps the channels and
shrinks the map to measure the per-call host cost (Python, dispatch,
launches), which is what a lone block's wall time on a GPU mostly is at
batch 2.

Example::

    python tools/analysis_tools/benchmark_blocks.py --device cuda --amp \\
        --json work_dirs/benchmark_blocks.json
"""
import argparse
import contextlib
import json
import os
import statistics
import time
from typing import Callable, Dict, Iterator, List, Optional

import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from torch import Tensor, nn

from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal,
                                        SimplifiedNonLocal)
from gcnet_plugin.models.layers.non_local import MODES
from gcnet_plugin.profiling import (block_traffic, device_label,
                                    distinct_bytes, interleaved_times)

# Mask R-CNN R-50, 800x1333, batch 2: c3, c4, c5 outputs.
LEVELS = {
    'c3': (2, 512, 100, 168),
    'c4': (2, 1024, 50, 84),
    'c5': (2, 2048, 25, 42),
}
BASELINE = 'mmcv_gc'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast, input in the AMP dtype (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'])
    parser.add_argument(
        '--levels', nargs='+', default=list(LEVELS), choices=list(LEVELS))
    parser.add_argument(
        '--nl-levels',
        nargs='*',
        default=['c4'],
        choices=list(LEVELS),
        help='levels for the NL blocks (none: skip)')
    parser.add_argument(
        '--nl-modes', nargs='+', default=['embedded_gaussian'], choices=MODES)
    parser.add_argument(
        '--repeats', type=int, help='timed rounds (default 20 CUDA, 5 CPU)')
    parser.add_argument(
        '--warmup', type=int, help='untimed rounds (default 3 CUDA, 1 CPU)')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument(
        '--map-size',
        nargs=2,
        type=int,
        metavar=('H', 'W'),
        help='replace every level\'s H x W (e.g. 1 1: per-call host cost)')
    parser.add_argument(
        '--tf32',
        action='store_true',
        help='allow TF32 in fp32 convs/matmuls (CUDA)')
    parser.add_argument('--json', help='write the results here')
    return parser.parse_args()


def make_cases(c: int, with_nl: bool, nl_modes: List[str]) -> Dict:
    """Name -> block builder for C input channels."""
    cases = {
        BASELINE: lambda: MMCVContextBlock(c, ratio=1 / 16),
        'gc': lambda: ContextBlock(c, ratio=1 / 16),
        'snl': lambda: SimplifiedNonLocal(c),
        'se': lambda: SE(c, ratio=1 / 16),
    }
    if with_nl:
        for mode in nl_modes:
            cases[f'nl_{mode}'] = (lambda m=mode: NonLocal(c, mode=m))
        cases['mmcv_nl_embedded_gaussian'] = lambda: MMCVNonLocal2d(c)
    return cases


def randomize_(block: nn.Module, seed: int = 0) -> nn.Module:
    """Non-zero weights everywhere, so no branch is trivially skipped."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(
                torch.randn(p.shape, generator=gen) * 0.05 +
                (1.0 if p.dim() == 3 else 0.0))
    return block


def check_numerics(shape: tuple, device: str, amp: Optional[torch.dtype],
                   in_dtype: torch.dtype) -> Dict[str, float]:
    """Max |ours - mmcv| of output and input grad, copied weights."""
    c = shape[1]
    ref = randomize_(MMCVContextBlock(c, ratio=1 / 16)).to(device)
    ours = ContextBlock(c, ratio=1 / 16).to(device)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(shape, device=device, dtype=in_dtype)
    result = {}
    outs = []
    for block in (ref, ours):
        xi = x.clone().requires_grad_()
        with torch.autocast(
                device, dtype=amp or torch.float16, enabled=amp is not None):
            out = block(xi)
        grad = torch.ones_like(out) / out.numel()**0.5
        out.backward(grad)
        outs.append((out.detach().float(), xi.grad.float()))
    result['max_abs_diff_out'] = (outs[0][0] - outs[1][0]).abs().max().item()
    result['max_abs_diff_grad'] = (outs[0][1] - outs[1][1]).abs().max().item()
    result['max_abs_grad'] = outs[0][1].abs().max().item()
    return result


def step(block: nn.Module, x: Tensor, grad: Tensor,
         amp: Optional[torch.dtype]) -> None:
    """One forward + backward."""
    with torch.autocast(
            x.device.type, dtype=amp or torch.float16, enabled=amp
            is not None):
        out = block(x)
    out.backward(grad)
    _clear_grads(block, x)


def _clear_grads(block: nn.Module, x: Tensor) -> None:
    x.grad = None
    for p in block.parameters():
        p.grad = None


def device_ms(block: nn.Module, x: Tensor, grad: Tensor,
              amp: Optional[torch.dtype], iters: int) -> Optional[float]:
    """Device (kernel) time of one forward + backward, CUDA only.

    The sum of the kernel times ``torch.profiler`` attributes to the ops,
    per iteration: what the block costs inside a network that keeps the
    GPU busy, without the host's launch gaps.
    """
    try:
        from torch.profiler import ProfilerActivity, profile
        step(block, x, grad, amp)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA
                                 ]) as prof:
            for _ in range(iters):
                step(block, x, grad, amp)
            torch.cuda.synchronize()
        total_us = sum(e.self_device_time_total for e in prof.events()
                       if e.device_type.name == 'CPU'
                       and not e.name.startswith('Activity Buffer'))
        return total_us / iters / 1e3
    except Exception as e:  # noqa: BLE001
        print(f'# device time unavailable: {e!r}')
        return None


def saved_bytes(block: nn.Module, x: Tensor,
                amp: Optional[torch.dtype]) -> int:
    """Bytes autograd saves for backward, input and parameters excluded."""
    skip = {x.untyped_storage().data_ptr()}
    skip |= {p.untyped_storage().data_ptr() for p in block.parameters()}
    storages: Dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.autocast(
                x.device.type, dtype=amp or torch.float16, enabled=amp
                is not None):
            out = block(x)
    del out
    return sum(storages.values())


def peak_bytes(fn: Callable[[], None], device: str) -> Optional[int]:
    """Extra bytes at the peak of ``fn()``, above the memory before it."""
    if device == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    # CPU: torch.profiler's memory timeline (a private API: None if absent)
    try:
        from torch.profiler import ProfilerActivity, profile
        from torch.profiler._memory_profiler import MemoryProfileTimeline
        with _quiet_stderr(), profile(
                activities=[ProfilerActivity.CPU],
                profile_memory=True,
                record_shapes=True,
                with_stack=True) as prof:
            fn()
        timeline = MemoryProfileTimeline(prof._memory_profile())
        _, sizes = timeline._coalesce_timeline(torch.device('cpu'))
    except Exception as e:  # noqa: BLE001
        print(f'# CPU peak memory unavailable: {e!r}')
        return None
    totals = [sum(s) for s in sizes]
    return max(totals) - totals[0] if totals else None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop lines."""
    saved = os.dup(2)
    with open(os.devnull, 'w') as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _mb(nbytes: Optional[int]) -> Optional[float]:
    return None if nbytes is None else nbytes / 2**20


def run_level(name: str, shape: tuple, args: argparse.Namespace,
              amp: Optional[torch.dtype], in_dtype: torch.dtype) -> Dict:
    device = args.device
    c = shape[1]
    cases = make_cases(c, name in args.nl_levels, args.nl_modes)
    blocks = {k: randomize_(build()).to(device) for k, build in cases.items()}
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(shape, device=device, dtype=in_dtype, generator=gen)
    x.requires_grad_()
    grad = torch.randn(shape, device=device, dtype=in_dtype, generator=gen)
    times = interleaved_times(
        {
            k: (lambda b=block: step(b, x, grad, amp))
            for k, block in blocks.items()
        }, device, args.warmup, args.repeats)
    result = {'shape': list(shape), 'cases': {}}
    for k, block in blocks.items():
        result['cases'][k] = {
            'time_ms':
            1e3 * statistics.median(times[k]),
            'device_ms': (device_ms(block, x, grad, amp, args.repeats)
                          if device == 'cuda' else None),
            'passes':
            block_traffic(block, shape).total /
            distinct_bytes(torch.empty(shape, device='meta')),
            'saved_mb':
            saved_bytes(block, x, amp) / 2**20,
            'peak_mb':
            _mb(peak_bytes(lambda b=block: step(b, x, grad, amp), device)),
        }
    base = result['cases'][BASELINE]
    for k, rec in result['cases'].items():
        for key in ('time_ms', 'device_ms', 'passes', 'saved_mb', 'peak_mb'):
            rec[key + '_ratio'] = (
                rec[key] /
                base[key] if rec[key] is not None and base[key] else None)
    result['numerics_vs_mmcv'] = check_numerics(shape, device, amp, in_dtype)
    return result


def _fmt(v: Optional[float], width: int) -> str:
    return f'{v:{width}.2f}' if v is not None else f'{"-":>{width}}'


def main() -> None:
    args = parse_args()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device; use --device cpu')
    on_cuda = args.device == 'cuda'
    args.repeats = args.repeats or (20 if on_cuda else 5)
    args.warmup = args.warmup if args.warmup is not None else (
        3 if on_cuda else 1)
    amp = None
    in_dtype = torch.float32
    if args.amp:
        amp = getattr(torch, args.amp_dtype
                      or ('float16' if on_cuda else 'bfloat16'))
        in_dtype = amp
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    # fp32 means fp32 for both blocks (cuDNN would use TF32 for mmcv's conv)
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    env = {
        'torch': torch.__version__,
        'device': device_label(args.device),
        'amp': str(amp) if amp else None,
        'tf32': args.tf32,
        'repeats': args.repeats,
        'warmup': args.warmup,
        'map_size': args.map_size,
    }
    print(f'# {env}')
    results = {'env': env, 'levels': {}}
    for name in args.levels:
        shape = (args.batch, LEVELS[name][1]) + tuple(args.map_size
                                                      or LEVELS[name][2:])
        t0 = time.perf_counter()
        res = run_level(name, shape, args, amp, in_dtype)
        if on_cuda:
            torch.cuda.empty_cache()
        results['levels'][name] = res
        print(f'\n{name} {tuple(shape)}  ({time.perf_counter() - t0:.0f} s)'
              f'  ours vs mmcv GC: max|dout| '
              f'{res["numerics_vs_mmcv"]["max_abs_diff_out"]:.2e}, '
              f'max|dgrad| {res["numerics_vs_mmcv"]["max_abs_diff_grad"]:.2e}'
              f' (max|grad| {res["numerics_vs_mmcv"]["max_abs_grad"]:.2e})')
        print(f'{"block":<28}{"ms":>9}{"x mmcv":>8}{"dev ms":>10}'
              f'{"x mmcv":>8}{"passes":>8}{"x mmcv":>8}{"saved MB":>10}'
              f'{"x mmcv":>8}{"peak MB":>10}{"x mmcv":>8}')
        for k, rec in res['cases'].items():

            print(f'{k:<28}{_fmt(rec["time_ms"], 9)}'
                  f'{_fmt(rec["time_ms_ratio"], 8)}'
                  f'{_fmt(rec["device_ms"], 10)}'
                  f'{_fmt(rec["device_ms_ratio"], 8)}'
                  f'{_fmt(rec["passes"], 8)}'
                  f'{_fmt(rec["passes_ratio"], 8)}'
                  f'{_fmt(rec["saved_mb"], 10)}'
                  f'{_fmt(rec["saved_mb_ratio"], 8)}'
                  f'{_fmt(rec["peak_mb"], 10)}'
                  f'{_fmt(rec["peak_mb_ratio"], 8)}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'\nwrote {args.json}')


if __name__ == '__main__':
    main()
