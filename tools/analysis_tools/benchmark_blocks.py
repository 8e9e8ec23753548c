"""Time and memory of the blocks, forward + backward, vs mmcv's GC block.

Runs, in one process, our ``ContextBlock`` and ``mmcv.cnn.ContextBlock``
(r16, att + add), our SNL and SE on the c3/c4/c5 maps of Mask R-CNN R-50
at 800x1333, batch 2, and our NonLocal (and mmcv's NonLocal2d) on the c4
map; see :mod:`gcnet_plugin.profiling.block_benchmark`. Columns: ``ms``
(median host wall time of a synchronised forward + backward), ``dev ms``
(CUDA kernel time), ``passes`` (memory traffic in units of the input
map), ``saved MB`` (kept for backward) and ``peak MB``, each followed by
its ratio to mmcv's GC block. ``--map-size 1 1`` keeps the channels and
shrinks the maps: the per-call host cost. What each figure means and what
was measured: docs/benchmarks.md.

Example::

    python tools/analysis_tools/benchmark_blocks.py --device cuda --amp \\
        --json work_dirs/benchmark_blocks.json
"""
import argparse
import json
import time
from typing import Optional

import torch

from gcnet_plugin.models.layers.non_local import MODE_ALIASES, MODES
from gcnet_plugin.profiling.autocast import amp_dtype
from gcnet_plugin.profiling.block_benchmark import LEVELS, run_level
from gcnet_plugin.profiling.timing import (add_device_args, check_device,
                                           default_rounds, device_label)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, cpu_repeats=5)
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
        '--nl-modes',
        nargs='+',
        default=['embedded_gaussian'],
        choices=MODES + tuple(MODE_ALIASES))
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
    args = parser.parse_args()
    check_device(parser, args)
    return args


def _fmt(v: Optional[float], width: int) -> str:
    return f'{v:{width}.2f}' if v is not None else f'{"-":>{width}}'


def main() -> None:
    args = parse_args()
    repeats, warmup = default_rounds(args.device, args.repeats, args.warmup)
    amp = amp_dtype(args.device, args.amp_dtype) if args.amp else None
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
        'repeats': repeats,
        'warmup': warmup,
        'map_size': args.map_size,
    }
    print(f'# {env}')
    results = {'env': env, 'levels': {}}
    for name in args.levels:
        shape = (args.batch, LEVELS[name][1]) + tuple(args.map_size
                                                      or LEVELS[name][2:])
        t0 = time.perf_counter()
        nl_modes = args.nl_modes if name in args.nl_levels else ()
        res = run_level(shape, args.device, warmup, repeats, nl_modes, amp)
        if args.device == 'cuda':
            torch.cuda.empty_cache()
        results['levels'][name] = res
        num = res['numerics_vs_mmcv']
        print(f'\n{name} {shape}  ({time.perf_counter() - t0:.0f} s)'
              f'  ours vs mmcv GC: max|dout| {num["max_abs_diff_out"]:.2e}, '
              f'max|dgrad| {num["max_abs_diff_grad"]:.2e}'
              f' (max|grad| {num["max_abs_grad"]:.2e})')
        print(f'{"block":<28}{"ms":>9}{"x mmcv":>8}{"dev ms":>10}'
              f'{"x mmcv":>8}{"passes":>8}{"x mmcv":>8}{"saved MB":>10}'
              f'{"x mmcv":>8}{"peak MB":>10}{"x mmcv":>8}')
        for k, rec in res['cases'].items():
            widths = (('time_ms', 9), ('device_ms', 10), ('passes', 8),
                      ('saved_mb', 10), ('peak_mb', 10))
            print(f'{k:<28}' + ''.join(
                _fmt(rec[key], w) + _fmt(rec[key + '_ratio'], 8)
                for key, w in widths))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'\nwrote {args.json}')


if __name__ == '__main__':
    main()
