"""Mixed precision as the benchmark tools switch it: one optional dtype.

``None`` means fp32 (autocast off); a dtype means autocast to it, the
input in that dtype too (what a network under AMP hands a block).
"""
from typing import ContextManager, Optional

import torch


def amp_dtype(device: str, name: Optional[str] = None) -> torch.dtype:
    """``torch.<name>``, by default fp16 on CUDA and bf16 on the CPU."""
    if name is None:
        name = 'float16' if device == 'cuda' else 'bfloat16'
    return getattr(torch, name)


def maybe_autocast(device: str,
                   dtype: Optional[torch.dtype]) -> ContextManager:
    """``torch.autocast`` to ``dtype`` on ``device``; off when None."""
    return torch.autocast(
        device, dtype=dtype or torch.float16, enabled=dtype is not None)
