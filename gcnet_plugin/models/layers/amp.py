"""Precision helpers: autocast queries and the accumulation dtype.

``torch.is_autocast_enabled(device_type)`` raises for device types without
autocast (``'meta'``: shape-only runs, the memory-traffic count of
``gcnet_plugin.profiling``), so the blocks ask through these helpers.
Softmaxes and long sums accumulate in :func:`accumulation_dtype`, never in
fp16/bf16.
"""
import contextlib
from typing import ContextManager, Optional

import torch


def _has_autocast(device_type: str) -> bool:
    is_available = getattr(torch.amp, 'is_autocast_available', None)
    if is_available is not None:
        return is_available(device_type)
    return device_type in ('cpu', 'cuda')  # torch < 2.4


def autocast_dtype(device_type: str) -> Optional[torch.dtype]:
    """The autocast dtype if autocast is on for ``device_type``, else None.
    """
    if _has_autocast(device_type) and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None


def no_autocast(device_type: str) -> ContextManager:
    """Autocast off (explicit dtypes inside), at no cost where it is off."""
    if autocast_dtype(device_type) is not None:
        return torch.autocast(device_type, enabled=False)
    return contextlib.nullcontext()


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp64 for fp64 inputs (gradchecks), fp32 for every other dtype.

    The dtype of the softmaxes and the sums over positions: fp16/bf16
    would lose the attention's small weights and overflow exp().
    """
    return torch.float64 if dtype == torch.float64 else torch.float32
