"""What the GC blocks add to a ResNet's training step: ours vs mmcv's.

Times forward + backward of ResNet-50 alone, with mmcv's ``ContextBlock``
and with ours (r16 after conv3 of every c3-c5 block:
``configs/gc_r50_r16.py``'s backbone) on the same input, rounds
interleaved; see :mod:`gcnet_plugin.profiling.backbone_benchmark`.
``added ms`` is the blocks' added time (median of the per-round
difference to ResNet-50, with its range), ``GiB`` the memory traffic of
the step. What was measured: docs/benchmarks.md.

Example::

    python tools/analysis_tools/benchmark_backbone.py --device cuda \\
        --json work_dirs/benchmark_backbone.json
    # CPU: smaller input, few rounds
    python tools/analysis_tools/benchmark_backbone.py --device cpu \\
        --shape 320 544 --repeats 5
"""
import argparse
import json

import torch

from gcnet_plugin.profiling.autocast import amp_dtype
from gcnet_plugin.profiling.backbone_benchmark import run_backbones
from gcnet_plugin.profiling.timing import (add_device_args, check_device,
                                           default_rounds, device_label)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, cpu_repeats=3)
    parser.add_argument(
        '--shape',
        nargs=2,
        type=int,
        default=[800, 1344],
        metavar=('H', 'W'),
        help='input size (default 800 1344: 1333 padded to 32)')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--depth', type=int, default=50, choices=[50, 101])
    parser.add_argument(
        '--amp', action='store_true', help='autocast fp16 (CUDA) / bf16')
    parser.add_argument(
        '--channels-last', action='store_true', help='NHWC input and model')
    args = parser.parse_args()
    check_device(parser, args)
    return args


def main() -> None:
    args = parse_args()
    repeats, warmup = default_rounds(
        args.device, args.repeats, args.warmup, cpu_repeats=3)
    amp = amp_dtype(args.device) if args.amp else None
    torch.backends.cudnn.benchmark = True
    shape = [args.batch, 3] + list(args.shape)
    env = {
        'torch': torch.__version__,
        'device': device_label(args.device),
        'shape': shape,
        'depth': args.depth,
        'amp': args.amp,
        'channels_last': args.channels_last,
        'repeats': repeats,
        'warmup': warmup,
    }
    print(f'# {env}')
    res = run_backbones(shape, args.device, warmup, repeats, args.depth, amp,
                        args.channels_last)
    print(f'{"backbone":<12}{"ms":>10}{"added ms":>10}{"(min-max)":>18}'
          f'{"added %":>9}{"peak MB":>10}{"GiB":>8}')
    for k, v in res['ms'].items():
        added = res['added_ms'].get(k)
        lo_hi = res['added_ms_min_max'].get(k)
        pct = res['added_pct'].get(k)
        peak = res['peak_mb'][k]
        print(f'{k:<12}{v:10.1f}'
              f'{"-" if added is None else f"{added:.1f}":>10}'
              f'{"-" if lo_hi is None else "(%.1f-%.1f)" % tuple(lo_hi):>18}'
              f'{"-" if pct is None else f"{pct:.1f}":>9}'
              f'{"-" if peak is None else f"{peak:.0f}":>10}'
              f'{res["traffic_gib"][k]:8.2f}')
    ratio = res['added_ratio_ours_to_mmcv']
    print('GC blocks\' added time, ours / mmcv: ' +
          ('-' if ratio is None else f'{ratio:.2f}x') + '; added traffic: '
          f'{res["added_traffic_ratio_ours_to_mmcv"]:.2f}x')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'env': env, **res}, f, indent=2)
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
