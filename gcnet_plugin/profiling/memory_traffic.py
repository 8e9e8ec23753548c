"""Bytes each dispatched op reads and writes: the memory traffic of a block.

At batch 2 the GC block is memory-bound on every device: its GEMMs have an
inner or outer dimension of 1 or 2, so its cost inside a busy network is
the number of times it reads and writes the feature map. This counts that
where it is decided, at the aten dispatcher, below autograd (backward ops
included), so it is the same on CPU, CUDA and ``'meta'`` tensors (no
compute: full-size maps cost nothing to count).

Counting convention: every tensor argument of a non-view op is read once,
every tensor it returns is written once, each at its distinct elements
(a broadcast ``expand`` counts the elements it was expanded from). Views
(``view``, ``transpose``, ``expand``, ...) and bare allocations
(``empty``) move nothing and are skipped.
A kernel may touch more (cuDNN workspaces, tiling re-reads) or less
(caches); what this catches are whole extra passes: needless copies,
transposes, unfused gradient sums.
"""
import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

# Views and bare allocations move no data.
NO_TRAFFIC_OPS = frozenset({
    '_reshape_alias', '_unsafe_view', 'alias', 'as_strided', 'detach', 'empty',
    'empty_like', 'empty_strided', 'expand', 'permute', 'select', 'slice',
    'split', 'squeeze', 't', 'transpose', 'unbind', 'unsqueeze', 'view'
})


def distinct_bytes(t: Tensor) -> int:
    """Bytes of the distinct elements of ``t`` (stride-0 dims count once)."""
    numel = 1
    for size, stride in zip(t.shape, t.stride()):
        if stride != 0:
            numel *= size
    return numel * t.element_size()


@dataclass
class OpTraffic:
    """One dispatched op: its name and the bytes it reads and writes."""
    name: str
    read: int
    written: int


class TrafficCounter(TorchDispatchMode):
    """Records an :class:`OpTraffic` for each non-view op run inside it.

    Example::

        with TrafficCounter() as traffic:
            block(x).backward(grad)
        passes = traffic.total / distinct_bytes(x)
    """

    def __init__(self) -> None:
        super().__init__()
        self.ops: List[OpTraffic] = []

    def __torch_dispatch__(self,
                           func: Any,
                           types: Any,
                           args: tuple = (),
                           kwargs: Optional[Dict] = None) -> Any:
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name not in NO_TRAFFIC_OPS:
            ins = tree_flatten((args, kwargs))[0]
            outs = tree_flatten(out)[0]
            self.ops.append(
                OpTraffic(
                    name,
                    sum(
                        distinct_bytes(t) for t in ins
                        if isinstance(t, Tensor)),
                    sum(
                        distinct_bytes(t) for t in outs
                        if isinstance(t, Tensor))))
        return out

    @property
    def read(self) -> int:
        return sum(op.read for op in self.ops)

    @property
    def written(self) -> int:
        return sum(op.written for op in self.ops)

    @property
    def total(self) -> int:
        return self.read + self.written

    def large_ops(self, nbytes: int) -> List[OpTraffic]:
        """Ops that read or write at least ``nbytes`` in one go."""
        return [
            op for op in self.ops if op.read >= nbytes or op.written >= nbytes
        ]


def block_traffic(block: torch.nn.Module,
                  shape: tuple,
                  dtype: torch.dtype = torch.float32,
                  channels_last: bool = False,
                  device: str = 'meta',
                  input_grad: bool = True) -> TrafficCounter:
    """Traffic of one forward + backward of ``block`` on a ``shape`` input.

    Runs on ``'meta'`` tensors by default (a meta copy of the block: no
    compute, any size). Every output that requires grad (one tensor, or
    a tuple/list such as a backbone's feature maps) receives a full
    incoming gradient, as inside a network. ``input_grad=False``: the
    input needs no gradient (an image into a backbone).

    Shape:
        shape: (N, C, H, W)
    """
    if device == 'meta':
        block = _meta_copy(block)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.empty(shape, dtype=dtype, device=device)
    x = x.to(memory_format=fmt).requires_grad_(input_grad)
    with TrafficCounter() as traffic:
        outs = block(x)
        outs = [outs] if isinstance(outs, Tensor) else list(outs)
        outs = [o for o in outs if o.requires_grad]
        grads = [torch.empty_like(o) for o in outs]
        torch.autograd.backward(outs, grads)
    return traffic


def _meta_copy(block: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``block`` on the meta device (the original is untouched)."""
    return copy.deepcopy(block).to('meta')
