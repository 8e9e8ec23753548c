"""Seeded random weights for modules whose init is (partly) zero.

A freshly built GC, SNL or non-local block is the identity (its last conv
is zero-initialised) and SE is ``x * 0.5``: a test or benchmark that ran
them as built would exercise no transform and no gradient into it. The
tests and ``tools/analysis_tools/benchmark_blocks.py`` fill them with
:func:`randomize_weights_` instead.
"""
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from .layers.amp import accumulation_dtype

NORM_LAYERS = (nn.LayerNorm, nn.GroupNorm, _BatchNorm, _InstanceNorm)


def norm_scales(module: nn.Module) -> list:
    """The scale parameters (``weight``) of the norm layers in ``module``.

    Selected by layer type: a GC block's LayerNorm over [R, 1, 1] is
    found as a LayerNorm, not by the 3-d shape its scale shares with its
    bias.
    """
    return [
        m.weight for m in module.modules()
        if isinstance(m, NORM_LAYERS) and isinstance(m.weight, nn.Parameter)
    ]


def randomize_weights_(module: nn.Module,
                       std: float = 0.3,
                       seed: int = 0) -> nn.Module:
    """Overwrite every parameter in place with seeded normal noise.

    Parameters are drawn from N(0, std^2), in ``module.parameters()``
    order from one generator seeded with ``seed`` (same seed, same
    weights); the scales of norm layers (:func:`norm_scales`) from
    N(1, std^2), so that a norm layer keeps its input's scale instead of
    shrinking it or flipping its sign.

    Args:
        module (nn.Module): Any module; its parameters keep their dtype
            and device.
        std (float): Standard deviation of the noise. Default: 0.3.
        seed (int): Seed of the generator. Default: 0.

    Returns:
        nn.Module: ``module`` itself.
    """
    gen = torch.Generator().manual_seed(seed)
    scales = {id(p) for p in norm_scales(module)}
    with torch.no_grad():
        for p in module.parameters():
            noise = torch.randn(
                p.shape, generator=gen, dtype=accumulation_dtype(p.dtype))
            p.copy_(noise * std + (1.0 if id(p) in scales else 0.0))
    return module
