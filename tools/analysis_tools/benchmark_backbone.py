"""What the GC blocks add to a ResNet's training step: ours vs mmcv's.

Builds three backbones that differ only in their plugins: ResNet-50 alone,
with mmcv's ``ContextBlock`` and with ours (r16, after the last 1x1 conv of
every residual block of c3-c5: ``configs/gc_r50_r16.py``'s backbone, BN
in train mode), and times forward + backward of each on the same input,
in one process, rounds interleaved (rotating order), median kept. The
figure of merit is the blocks' added time, the median over rounds of
``ms - ms(ResNet-50)`` within a round (with its range), and its ratio
ours / mmcv: inside a network the host queues kernels ahead of
a busy GPU, so the blocks cost their kernel time, not their launch
overheads (compare ``benchmark_blocks.py``, a lone block at a time).
``GiB`` is the memory traffic of the step (bytes the dispatched ops read
and write, ``gcnet_plugin.profiling``; fp32, counted on meta tensors, the
same on every machine).

Example::

    python tools/analysis_tools/benchmark_backbone.py --device cuda \\
        --json work_dirs/benchmark_backbone.json
    # CPU: smaller input, few rounds
    python tools/analysis_tools/benchmark_backbone.py --device cpu \\
        --shape 320 544 --repeats 5
"""
import argparse
import json
import statistics
from typing import Dict, List, Optional

import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock
from torch import nn

from gcnet_plugin.models.backbones import PluginResNet
from gcnet_plugin.models.layers import ContextBlock
from gcnet_plugin.profiling import (block_traffic, device_label,
                                    interleaved_times)

VARIANTS = {
    'resnet': None,
    'mmcv_gc': MMCVContextBlock,
    'gc': ContextBlock,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
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
    parser.add_argument(
        '--repeats', type=int, help='timed rounds (default 20 CUDA, 3 CPU)')
    parser.add_argument(
        '--warmup', type=int, help='untimed rounds (default 3 CUDA, 1 CPU)')
    parser.add_argument('--json', help='write the results here')
    return parser.parse_args()


def build_backbone(block: Optional[type], depth: int) -> nn.Module:
    """ResNet with ``block`` (r16) after conv3 of every c3-c5 block."""
    plugins = None if block is None else [
        dict(
            cfg=dict(type=block, ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]
    backbone = PluginResNet(
        depth=depth,
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        plugins=plugins)
    backbone.train()  # mmdet's ResNet.train returns None
    return backbone


def step(model: nn.Module, x: torch.Tensor, amp: Optional[torch.dtype],
         grads: List[torch.Tensor]) -> None:
    """Forward + backward with fixed output gradients."""
    with torch.autocast(
            x.device.type, dtype=amp or torch.float16, enabled=amp
            is not None):
        outs = model(x)
    # c2 is frozen (frozen_stages=1): no gradient flows there
    pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
    torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    for p in model.parameters():
        p.grad = None


def run(args: argparse.Namespace) -> Dict:
    device = args.device
    amp = None
    if args.amp:
        amp = torch.float16 if device == 'cuda' else torch.bfloat16
    fmt = (
        torch.channels_last if args.channels_last else torch.contiguous_format)
    torch.manual_seed(0)
    models = {
        name: build_backbone(block, args.depth).to(device, memory_format=fmt)
        for name, block in VARIANTS.items()
    }
    x = torch.randn(
        args.batch, 3, *args.shape, device=device).to(memory_format=fmt)
    with torch.no_grad(), torch.autocast(
            device, dtype=amp or torch.float16, enabled=amp is not None):
        grads = [torch.randn_like(o) for o in models['resnet'](x)]
    steps = {
        k: (lambda m=model: step(m, x, amp, grads))
        for k, model in models.items()
    }
    times = interleaved_times(steps, device, args.warmup, args.repeats)
    peaks: Dict[str, Optional[float]] = {k: None for k in models}
    if device == 'cuda':
        for k, fn in steps.items():
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            fn()
            torch.cuda.synchronize()
            peaks[k] = (torch.cuda.max_memory_allocated() - base) / 2**20
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    # paired: each round's difference to the plain ResNet of that round,
    # so that slow drifts of a shared machine cancel
    diffs = {
        k: [1e3 * (t - t0) for t, t0 in zip(times[k], times['resnet'])]
        for k in ('mmcv_gc', 'gc')
    }
    added = {k: statistics.median(v) for k, v in diffs.items()}
    spread = {k: [min(v), max(v)] for k, v in diffs.items()}
    traffic = {
        k: block_traffic(m, tuple(x.shape), input_grad=False).total / 2**30
        for k, m in models.items()
    }
    added_traffic = {k: traffic[k] - traffic['resnet'] for k in added}
    return {
        'ms':
        ms,
        'peak_mb':
        peaks,
        'traffic_gib':
        traffic,
        'added_ms':
        added,
        'added_ms_min_max':
        spread,
        'added_pct': {
            k: 100 * v / ms['resnet']
            for k, v in added.items()
        },
        'added_ratio_ours_to_mmcv':
        (added['gc'] / added['mmcv_gc'] if added['mmcv_gc'] > 0 else None),
        'added_traffic_ratio_ours_to_mmcv':
        added_traffic['gc'] / added_traffic['mmcv_gc'],
    }


def main() -> None:
    args = parse_args()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device; use --device cpu')
    on_cuda = args.device == 'cuda'
    args.repeats = args.repeats or (20 if on_cuda else 3)
    args.warmup = args.warmup if args.warmup is not None else (
        3 if on_cuda else 1)
    torch.backends.cudnn.benchmark = True
    env = {
        'torch': torch.__version__,
        'device': device_label(args.device),
        'shape': [args.batch, 3] + list(args.shape),
        'depth': args.depth,
        'amp': args.amp,
        'channels_last': args.channels_last,
        'repeats': args.repeats,
        'warmup': args.warmup,
    }
    print(f'# {env}')
    res = run(args)
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
