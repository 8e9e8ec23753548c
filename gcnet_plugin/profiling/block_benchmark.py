"""One level of the block benchmark: ours vs mmcv's blocks, side by side.

Our ``ContextBlock`` and ``mmcv.cnn.ContextBlock`` (r16, att + add), our
SNL and SE, and optionally our ``NonLocal`` modes and mmcv's
``NonLocal2d``, on one feature map of Mask R-CNN R-50 (:data:`LEVELS`),
forward + backward. Per case: the median wall time of interleaved rounds,
the CUDA kernel time, the memory traffic in passes over the input map,
the bytes saved for backward and the peak memory, each also as a ratio
to mmcv's GC block (:data:`BASELINE`). What the figures mean and what was
measured: docs/benchmarks.md. ``tools/analysis_tools/benchmark_blocks.py``
runs it.
"""
import statistics
from typing import Callable, Dict, Optional, Sequence

import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from torch import Tensor, nn

from gcnet_plugin.models.layers import (SE, ContextBlock, NonLocal,
                                        SimplifiedNonLocal)
from gcnet_plugin.models.random_weights import randomize_weights_
from .autocast import maybe_autocast
from .memory import peak_bytes, saved_bytes
from .memory_traffic import block_traffic, distinct_bytes
from .timing import interleaved_times, kernel_ms

# Mask R-CNN R-50, 800x1333, batch 2: c3, c4, c5 outputs.
LEVELS = {
    'c3': (2, 512, 100, 168),
    'c4': (2, 1024, 50, 84),
    'c5': (2, 2048, 25, 42),
}
BASELINE = 'mmcv_gc'
MEASURES = ('time_ms', 'device_ms', 'passes', 'saved_mb', 'peak_mb')
# small weights: the blocks' outputs stay close to their inputs
WEIGHT_STD = 0.05


def make_cases(
    channels: int, nl_modes: Sequence[str] = ()
) -> Dict[str, Callable[[], nn.Module]]:
    """Name -> builder of each block on ``channels`` input channels; the
    non-local blocks only for the given ``nl_modes`` (none: no NL)."""
    c = channels
    cases = {
        BASELINE: lambda: MMCVContextBlock(c, ratio=1 / 16),
        'gc': lambda: ContextBlock(c, ratio=1 / 16),
        'snl': lambda: SimplifiedNonLocal(c),
        'se': lambda: SE(c, ratio=1 / 16),
    }
    for mode in nl_modes:
        cases[f'nl_{mode}'] = (lambda m=mode: NonLocal(c, mode=m))
    if nl_modes:
        cases['mmcv_nl_embedded_gaussian'] = lambda: MMCVNonLocal2d(c)
    return cases


def train_step(block: nn.Module,
               x: Tensor,
               grad: Tensor,
               amp: Optional[torch.dtype] = None) -> None:
    """One forward + backward of ``block(x)`` with output gradient
    ``grad``; the gradients are then dropped.

    Shape:
        x, grad: ``[N, C, H, W]``.
    """
    with maybe_autocast(x.device.type, amp):
        out = block(x)
    out.backward(grad)
    x.grad = None
    for p in block.parameters():
        p.grad = None


def check_numerics(shape: Sequence[int],
                   device: str,
                   amp: Optional[torch.dtype] = None,
                   in_dtype: torch.dtype = torch.float32) -> Dict[str, float]:
    """Max |ours - mmcv| of the GC block's output and input gradient,
    with mmcv's random weights copied into ours.

    Shape:
        shape: ``(N, C, H, W)``.
    """
    c = shape[1]
    ref = randomize_weights_(MMCVContextBlock(c, ratio=1 / 16),
                             WEIGHT_STD).to(device)
    ours = ContextBlock(c, ratio=1 / 16).to(device)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(tuple(shape), device=device, dtype=in_dtype)
    outs = []
    for block in (ref, ours):
        xi = x.clone().requires_grad_()
        with maybe_autocast(device, amp):
            out = block(xi)
        out.backward(torch.ones_like(out) / out.numel()**0.5)
        outs.append((out.detach().float(), xi.grad.float()))
    (ref_out, ref_grad), (our_out, our_grad) = outs
    return {
        'max_abs_diff_out': (ref_out - our_out).abs().max().item(),
        'max_abs_diff_grad': (ref_grad - our_grad).abs().max().item(),
        'max_abs_grad': ref_grad.abs().max().item(),
    }


def add_ratios(cases: Dict[str, Dict[str, Optional[float]]],
               baseline: str = BASELINE) -> None:
    """Add ``<measure>_ratio`` (value over the baseline's; None where
    either is missing or the baseline's is 0) to every case, in place."""
    base = cases[baseline]
    for rec in cases.values():
        for key in MEASURES:
            rec[key + '_ratio'] = (
                rec[key] /
                base[key] if rec[key] is not None and base[key] else None)


def _mb(nbytes: Optional[int]) -> Optional[float]:
    return None if nbytes is None else nbytes / 2**20


def run_level(shape: Sequence[int],
              device: str,
              warmup: int,
              repeats: int,
              nl_modes: Sequence[str] = (),
              amp: Optional[torch.dtype] = None) -> Dict:
    """Benchmark every case of :func:`make_cases` on one map.

    Args:
        shape (Sequence[int]): Input ``(N, C, H, W)``.
        device (str): ``'cuda'`` or ``'cpu'``.
        warmup (int): Untimed rounds.
        repeats (int): Timed rounds.
        nl_modes (Sequence[str]): Non-local modes to include (none: no
            NL blocks). Default: ``()``.
        amp (torch.dtype, optional): Autocast dtype, the input in it too;
            None: fp32.

    Returns:
        dict: ``shape``, ``cases`` (per case the :data:`MEASURES`, None
        where not measured, and their ratios to :data:`BASELINE`) and
        ``numerics_vs_mmcv`` (:func:`check_numerics`).
    """
    shape = tuple(shape)
    in_dtype = amp or torch.float32
    blocks = {
        k: randomize_weights_(build(), WEIGHT_STD).to(device)
        for k, build in make_cases(shape[1], nl_modes).items()
    }
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(shape, device=device, dtype=in_dtype, generator=gen)
    x.requires_grad_()
    grad = torch.randn(shape, device=device, dtype=in_dtype, generator=gen)
    steps = {
        k: (lambda b=block: train_step(b, x, grad, amp))
        for k, block in blocks.items()
    }
    times = interleaved_times(steps, device, warmup, repeats)
    map_bytes = distinct_bytes(torch.empty(shape, device='meta'))
    cases = {}
    for k, block in blocks.items():
        cases[k] = {
            'time_ms': 1e3 * statistics.median(times[k]),
            'device_ms':
            kernel_ms(steps[k], repeats) if device == 'cuda' else None,
            'passes': block_traffic(block, shape).total / map_bytes,
            'saved_mb': saved_bytes(block, x, amp) / 2**20,
            'peak_mb': _mb(peak_bytes(steps[k], device)),
        }
    add_ratios(cases)
    return {
        'shape': list(shape),
        'cases': cases,
        'numerics_vs_mmcv': check_numerics(shape, device, amp, in_dtype)
    }
