"""Collect what the analysis needs from the blocks during a forward pass.

Every block of :mod:`gcnet_plugin.models.layers` has a ``record_attention``
flag; when it is on, the block leaves a detached float32 copy of its
attention in ``last_attention``: ``[N, Np, Np]`` for
:class:`~gcnet_plugin.models.layers.NonLocal` (row ``i`` = query ``i``) and
``[N, Np]`` for a :class:`~gcnet_plugin.models.layers.ContextBlock` with
attention pooling. The block input ``x`` and output ``z`` come from forward
hooks. :class:`AttentionRecorder` switches both on for the chosen blocks and
restores the model on exit.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn


@dataclass
class BlockRecord:
    """One block's tensors from the last forward pass.

    Shape:
        inputs, outputs: ``[N, C, H, W]``; attention: ``[N, Np, Np]``
        (non-local), ``[N, Np]`` (context block, attention pooling) or
        None, with ``Np = H * W``.
    """
    inputs: Tensor
    outputs: Tensor
    attention: Optional[Tensor]


def block_kind(module: nn.Module) -> Optional[str]:
    """``'nonlocal'``, ``'context'`` or None for anything else."""
    from gcnet_plugin.models.layers import ContextBlock, NonLocal
    if isinstance(module, NonLocal):
        return 'nonlocal'
    if isinstance(module, ContextBlock):
        return 'context'
    return None


def find_blocks(
    model: nn.Module, kinds: Sequence[str] = ('nonlocal', 'context')
) -> Dict[str, nn.Module]:
    """Blocks of the given kinds by their ``named_modules`` name."""
    return {
        name: module
        for name, module in model.named_modules()
        if block_kind(module) in kinds
    }


class AttentionRecorder:
    """Context manager that records the inputs, outputs and attention.

    Example:
        >>> with AttentionRecorder(model) as rec:
        ...     model.extract_feat(inputs)
        >>> rec.records['backbone.layer3.4.after_add_plugin1'].attention

    Args:
        model (nn.Module): Model to inspect.
        names (Sequence[str], optional): Names of the blocks to record;
            by default every block found by :func:`find_blocks`.
        kinds (Sequence[str]): Kinds searched when ``names`` is None.
            Default: ``('nonlocal', 'context')``.
    """

    def __init__(
        self,
        model: nn.Module,
        names: Optional[Sequence[str]] = None,
        kinds: Sequence[str] = ('nonlocal', 'context')
    ) -> None:
        found = find_blocks(model, ('nonlocal', 'context'))
        if names is None:
            self.blocks = find_blocks(model, kinds)
        else:
            missing = [n for n in names if n not in found]
            if missing:
                raise KeyError(f'no attention block named {missing}; the '
                               f'model has {sorted(found)}')
            self.blocks = {n: found[n] for n in names}
        self.records: Dict[str, BlockRecord] = {}
        self._handles: List[torch.utils.hooks.RemovableHandle] = []
        self._flags: Dict[str, bool] = {}

    def _hook(self, name: str):

        def hook(module: nn.Module, args: tuple, output: Tensor) -> None:
            att = module.last_attention
            self.records[name] = BlockRecord(
                inputs=args[0].detach(),
                outputs=output.detach(),
                attention=None if att is None else att.detach())

        return hook

    def __enter__(self) -> 'AttentionRecorder':
        for name, block in self.blocks.items():
            self._flags[name] = block.record_attention
            block.record_attention = True
            self._handles.append(block.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        for name, block in self.blocks.items():
            block.record_attention = self._flags[name]
            block.last_attention = None
