"""Autocast queries that also work where autocast does not exist.

``torch.is_autocast_enabled(device_type)`` raises for device types without
autocast (``'meta'``: shape-only runs, the memory-traffic count of
``gcnet_plugin.profiling``), so the blocks ask through these helpers.
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
