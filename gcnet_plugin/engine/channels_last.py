"""Run a detector's backbone, and optionally what follows it, in
channels_last (NHWC) while it trains.

On a CPU, oneDNN's convolutions, BatchNorm and ReLU run faster on NHWC
maps than on NCHW ones, which they reorder at every call
(docs/quickstart.md has the measurement). mmcv's CPU ``RoIAlign`` reads
its input as NCHW without making it contiguous, so it returns wrong
values for an NHWC map: by default the backbone's outputs are therefore
made contiguous (NCHW) again before the neck sees them. A model whose RoI
extractors do not use mmcv's ``RoIAlign`` (e.g. ``SparseRoIAlign``, which
reads NHWC as a view) can keep the maps NHWC through the neck and heads
(``nchw_outputs=False``). Only the images are converted; the weights keep
their layout (a convolution's output is NHWC when its input is), so
checkpoints, the optimizer state and resuming are as without the hook.

Shape:
    backbone input [N, 3, H, W] (NCHW) -> the same values in NHWC;
    backbone outputs [N, C_i, H_i, W_i] -> NCHW (contiguous), or left
    NHWC with ``nchw_outputs=False``
"""
from typing import Any, List, Sequence, Tuple

import torch
from mmcv.ops import RoIAlign
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

__all__ = ['ChannelsLastBackboneHook', 'channels_last_backbone']


def _to_nhwc(module: nn.Module, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    x, *rest = args
    return (x.contiguous(memory_format=torch.channels_last), *rest)


def _to_nchw(module: nn.Module, args: Tuple[Any, ...],
             outs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
    return tuple(o.contiguous() for o in outs)


def channels_last_backbone(backbone: nn.Module,
                           nchw_outputs: bool = True) -> List[RemovableHandle]:
    """Make ``backbone`` take NHWC images (and give NCHW maps).

    Args:
        backbone (nn.Module): Takes [N, 3, H, W], returns a tuple of maps.
        nchw_outputs (bool): Make its maps contiguous (NCHW) again;
            False leaves them NHWC for the neck. Default: True.

    Returns:
        list[RemovableHandle]: ``handle.remove()`` undoes it.
    """
    handles = [backbone.register_forward_pre_hook(_to_nhwc)]
    if nchw_outputs:
        handles.append(backbone.register_forward_hook(_to_nchw))
    return handles


@HOOKS.register_module()
class ChannelsLastBackboneHook(Hook):
    """:func:`channels_last_backbone` on ``model.backbone`` while training.

    Validation inside the training loop runs the same way; ``tools/
    test.py`` does not use the hook. The results are those of NCHW up to
    rounding (convolutions sum in another order).

    Args:
        nchw_outputs (bool): NCHW maps for the neck (needed by mmcv's CPU
            ``RoIAlign``); False keeps the neck and the heads NHWC and is
            refused for a model with an mmcv ``RoIAlign``. Default: True.
    """

    priority = 'NORMAL'

    def __init__(self, nchw_outputs: bool = True) -> None:
        self.nchw_outputs = nchw_outputs
        self._handles: List[RemovableHandle] = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'backbone'):
            raise ValueError(
                'ChannelsLastBackboneHook needs a model with a backbone, got '
                f'{type(model).__name__}; remove it from custom_hooks')
        if not self.nchw_outputs:
            mmcv_layers = [
                name for name, module in model.named_modules()
                if isinstance(module, RoIAlign)
            ]
            if mmcv_layers:
                raise ValueError(
                    'ChannelsLastBackboneHook(nchw_outputs=False) would give '
                    "NHWC maps to mmcv's RoIAlign, which reads them as NCHW "
                    f'on a CPU: {", ".join(mmcv_layers)}; use roi_layer='
                    "dict(type='SparseRoIAlign', ...) with "
                    "type='PluginRoIExtractor', or nchw_outputs=True")
        self._handles = channels_last_backbone(model.backbone,
                                               self.nchw_outputs)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
