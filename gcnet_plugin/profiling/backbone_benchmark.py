"""What the GC blocks add to a ResNet's training step: ours vs mmcv's.

Three backbones that differ only in their plugins (:data:`VARIANTS`):
ResNet alone, with mmcv's ``ContextBlock`` and with ours (r16, after the
last 1x1 conv of every residual block of c3-c5, BN in train mode), timed
forward + backward on the same input in interleaved rounds. The figure
of merit is the blocks' added time, the median over rounds of
``ms - ms(ResNet)`` within a round, and its ratio ours / mmcv: inside a
network the host queues kernels ahead of a busy GPU, so the blocks cost
their kernel time, not their launch overheads. What was measured:
docs/benchmarks.md. ``tools/analysis_tools/benchmark_backbone.py`` runs
it.
"""
import statistics
from typing import Dict, List, Optional, Sequence

import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock
from torch import Tensor, nn

from gcnet_plugin.models.backbones import PluginResNet
from gcnet_plugin.models.layers import ContextBlock
from .autocast import maybe_autocast
from .memory import peak_bytes
from .memory_traffic import block_traffic
from .timing import interleaved_times

VARIANTS = {
    'resnet': None,
    'mmcv_gc': MMCVContextBlock,
    'gc': ContextBlock,
}


def build_backbone(block: Optional[type], depth: int = 50) -> nn.Module:
    """ResNet with ``block`` (r16) after conv3 of every c3-c5 block, in
    train mode (c2 frozen, as in the detectors)."""
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


def backbone_step(model: nn.Module,
                  x: Tensor,
                  grads: Sequence[Tensor],
                  amp: Optional[torch.dtype] = None) -> None:
    """Forward + backward with fixed output gradients, then drop them.

    Shape:
        x: ``[N, 3, H, W]``; grads: one per output map (c2-c5).
    """
    with maybe_autocast(x.device.type, amp):
        outs = model(x)
    # c2 is frozen (frozen_stages=1): no gradient flows there
    pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
    torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    for p in model.parameters():
        p.grad = None


def _paired_diffs(times: Dict[str, List[float]],
                  base: str = 'resnet') -> Dict[str, List[float]]:
    """Each round's ms minus the plain ResNet's of the same round, so
    that slow drifts of a shared machine cancel."""
    return {
        k: [1e3 * (t - t0) for t, t0 in zip(v, times[base])]
        for k, v in times.items() if k != base
    }


def run_backbones(shape: Sequence[int],
                  device: str,
                  warmup: int,
                  repeats: int,
                  depth: int = 50,
                  amp: Optional[torch.dtype] = None,
                  channels_last: bool = False) -> Dict:
    """Time the :data:`VARIANTS` side by side.

    Args:
        shape (Sequence[int]): Input ``(N, 3, H, W)``.
        device (str): ``'cuda'`` or ``'cpu'``.
        warmup (int): Untimed rounds.
        repeats (int): Timed rounds.
        depth (int): ResNet depth. Default: 50.
        amp (torch.dtype, optional): Autocast dtype; None: fp32.
        channels_last (bool): NHWC input and model. Default: False.

    Returns:
        dict: ``ms`` (median per variant), ``peak_mb`` (CUDA; else None),
        ``traffic_gib`` (bytes read and written, fp32, meta tensors),
        ``added_ms`` and ``added_ms_min_max`` (paired with the plain
        ResNet), ``added_pct``, ``added_ratio_ours_to_mmcv`` and
        ``added_traffic_ratio_ours_to_mmcv``.
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    models = {
        name: build_backbone(block, depth).to(device, memory_format=fmt)
        for name, block in VARIANTS.items()
    }
    x = torch.randn(*shape, device=device).to(memory_format=fmt)
    with torch.no_grad(), maybe_autocast(device, amp):
        grads = [torch.randn_like(o) for o in models['resnet'](x)]
    steps = {
        k: (lambda m=model: backbone_step(m, x, grads, amp))
        for k, model in models.items()
    }
    times = interleaved_times(steps, device, warmup, repeats)
    peaks = {
        k: (peak_bytes(fn, device) / 2**20 if device == 'cuda' else None)
        for k, fn in steps.items()
    }
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    diffs = _paired_diffs(times)
    added = {k: statistics.median(v) for k, v in diffs.items()}
    traffic = {
        k: block_traffic(m, tuple(x.shape), input_grad=False).total / 2**30
        for k, m in models.items()
    }
    added_traffic = {k: traffic[k] - traffic['resnet'] for k in added}
    mmcv_added = added['mmcv_gc']
    return dict(
        ms=ms,
        peak_mb=peaks,
        traffic_gib=traffic,
        added_ms=added,
        added_ms_min_max={
            k: [min(v), max(v)]
            for k, v in diffs.items()
        },
        added_pct={
            k: 100 * v / ms['resnet']
            for k, v in added.items()
        },
        added_ratio_ours_to_mmcv=(added['gc'] /
                                  mmcv_added if mmcv_added > 0 else None),
        added_traffic_ratio_ours_to_mmcv=(added_traffic['gc'] /
                                          added_traffic['mmcv_gc']))
