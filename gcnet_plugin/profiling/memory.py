"""Memory of one forward + backward: what autograd saves, and the peak.

- :func:`saved_bytes`: the tensors autograd keeps for backward (distinct
  storages; the input and the parameters excluded). The same on every
  device.
- :func:`peak_bytes`: the extra memory at the peak of a call above what
  was allocated before it: ``torch.cuda.max_memory_allocated`` on CUDA,
  the peak of ``torch.profiler``'s memory timeline on the CPU (a private
  API: None where it fails).
"""
import contextlib
import os
from typing import Callable, Dict, Iterator, Optional

import torch
from torch import Tensor, nn

from .autocast import maybe_autocast


def saved_bytes(block: nn.Module,
                x: Tensor,
                amp: Optional[torch.dtype] = None) -> int:
    """Bytes autograd saves in ``block(x)``, input and parameters
    excluded (``amp``: autocast dtype, None for fp32)."""
    skip = {x.untyped_storage().data_ptr()}
    skip |= {p.untyped_storage().data_ptr() for p in block.parameters()}
    storages: Dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with maybe_autocast(x.device.type, amp):
            out = block(x)
    del out
    return sum(storages.values())


def peak_bytes(fn: Callable[[], None], device: str) -> Optional[int]:
    """Extra bytes at the peak of ``fn()``, above the memory before it;
    None where the CPU profiler's memory timeline is unavailable."""
    if device == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    try:
        from torch.profiler import ProfilerActivity, profile
        from torch.profiler._memory_profiler import MemoryProfileTimeline
        with _quiet_stderr(), profile(
                activities=[ProfilerActivity.CPU],
                profile_memory=True,
                record_shapes=True,
                with_stack=True) as prof:
            fn()
        timeline = MemoryProfileTimeline(prof._memory_profile())
        _, sizes = timeline._coalesce_timeline(torch.device('cpu'))
    except Exception as e:  # noqa: BLE001  (a private API; say why)
        print(f'# CPU peak memory unavailable: {e!r}')
        return None
    totals = [sum(s) for s in sizes]
    return max(totals) - totals[0] if totals else None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop lines."""
    saved = os.dup(2)
    with open(os.devnull, 'w') as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
