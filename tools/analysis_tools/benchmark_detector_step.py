"""Time the paper's Mask R-CNN training step with and without its blocks.

The whole step (``model.train_step``: preprocessing, forward, losses,
backward, SGD) of the baseline, GC r16 (ours and with mmcv's
``ContextBlock``), GC r4 and +1 NL configs, on the same synthetic batch,
rounds interleaved; see :mod:`gcnet_plugin.profiling.detector_step`.
``overhead %`` is a variant's excess over the baseline's step in the same
round (median over rounds); ``COCO 12ep h`` the hours of 12 epochs of
COCO train2017 on 8 such GPUs at that speed, the steps alone (an
estimate: no data loading, all-reduce or SyncBN traffic). What was
measured: docs/benchmarks.md.

Example::

    python tools/analysis_tools/benchmark_detector_step.py --device cuda \\
        --amp --json work_dirs/detector_step_amp.json
    # CPU: a small image, BN, one round
    python tools/analysis_tools/benchmark_detector_step.py --device cpu \\
        --norm BN --shape 256 320 --repeats 1 --warmup 0
"""
import argparse
import json

import torch
from mmengine.logging import MMLogger

import gcnet_plugin  # noqa: F401  (registers modules)
from gcnet_plugin.profiling.detector_step import VARIANTS, run_detector_steps
from gcnet_plugin.profiling.timing import (add_device_args, check_device,
                                           default_rounds, device_label)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, cpu_repeats=3)
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(VARIANTS),
        choices=list(VARIANTS),
        help='the first is the reference (default: all, baseline first)')
    parser.add_argument(
        '--images', type=int, default=2, help='images per step (per GPU)')
    parser.add_argument(
        '--shape',
        nargs=2,
        type=int,
        default=[800, 1333],
        metavar=('H', 'W'),
        help='image size (default 800 1333)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='AmpOptimWrapper (fp16, dynamic loss scale), as train.py --amp')
    parser.add_argument(
        '--norm',
        help='backbone norm type instead of the configs\' SyncBN (BN on a '
        'CPU)')
    args = parser.parse_args()
    check_device(parser, args)
    if args.amp and args.device != 'cuda':
        parser.error('--amp: mmengine\'s AmpOptimWrapper needs a GPU; drop '
                     '--amp or use --device cuda')
    return args


def main() -> None:
    args = parse_args()
    repeats, warmup = default_rounds(
        args.device, args.repeats, args.warmup, cpu_repeats=3)
    torch.backends.cudnn.benchmark = True
    MMLogger.get_instance('mmengine').setLevel('WARNING')  # init messages
    env = {
        'torch': torch.__version__,
        'device': device_label(args.device),
        'images': args.images,
        'shape': args.shape,
        'amp': args.amp,
        'norm': args.norm or 'SyncBN',
        'repeats': repeats,
        'warmup': warmup,
    }
    print(f'# {env}')
    res = run_detector_steps(
        args.variants,
        args.device,
        args.images,
        args.shape,
        args.amp,
        repeats,
        warmup,
        norm=args.norm)
    print(f'{"variant":<13}{"ms":>8}{"(min-max)":>16}{"overhead %":>12}'
          f'{"img/s":>7}{"COCO 12ep h":>13}{"peak MB":>9}{"resident MB":>13}')
    for name, r in res.items():
        peak = r['peak_step_mb']
        print(f'{name:<13}{r["ms"]:8.1f}'
              f'{"(%.1f-%.1f)" % tuple(r["ms_min_max"]):>16}'
              f'{r["overhead_pct"]:12.1f}{r["images_per_s"]:7.1f}'
              f'{r["coco_12ep_hours_8gpu"]:13.1f}'
              f'{"-" if peak is None else f"{peak:.0f}":>9}'
              f'{r["resident_mb"]:13.0f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'env': env, 'results': res}, f, indent=2)
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
