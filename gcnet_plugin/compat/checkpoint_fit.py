"""Refuse to evaluate a model with a checkpoint that does not fit it.

mmengine loads ``load_from`` non-strictly and only logs a warning for
missing, unexpected or mis-shaped keys, so a wrong checkpoint gives a
half-initialised model and a near-zero AP (MMDetection once published a
GCNet X101 checkpoint that held R50 weights). :func:`check_checkpoint_fits`
compares a checkpoint's state dict with a model's and raises
:class:`CheckpointMismatchError` naming the keys; :class:`CheckpointFitHook`
runs it in ``after_load_checkpoint``, i.e. before the Runner copies any
weight into the model (``tools/test.py`` registers it).

Fine-tuning a model with inserted blocks from a checkpoint without them
(the ImageNet stage 2, docs/imagenet.md) allows exactly those blocks' keys
to be missing: :func:`inserted_block_prefixes` finds the blocks a
backbone's ``plugins`` inserted, and a config asks for the check with
``custom_hooks = [dict(type='CheckpointFitHook',
allow_missing_blocks=True)]``. Any other missing, unexpected or
mis-shaped key still raises, naming it.
"""
import logging
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn

__all__ = [
    'CheckpointFit', 'CheckpointMismatchError', 'check_checkpoint_fits',
    'CheckpointFitHook', 'inserted_block_prefixes'
]

# (pattern, replacement) pairs; the default is ``Runner.load_checkpoint``'s.
RevisePairs = Sequence[Tuple[str, str]]
DEFAULT_REVISE_KEYS: RevisePairs = ((r'^module\.', ''), )
# Attributes in which a residual block lists its plugins' module names
# (mmdet's Bottleneck: after_conv1/2/3; PluginBottleneck: after_add too).
PLUGIN_NAME_LISTS = ('after_conv1_plugin_names', 'after_conv2_plugin_names',
                     'after_conv3_plugin_names', 'after_add_plugin_names')
TEST_ADVICE = ('Refusing to evaluate a partly loaded model (pass '
               '--allow-partial to tools/test.py to do it anyway).')


class CheckpointMismatchError(RuntimeError):
    """The checkpoint's state dict does not fit the model."""


@dataclass
class CheckpointFit:
    """Keys of a checkpoint compared with a model's state dict.

    Attributes:
        missing (list[str]): In the model, not in the checkpoint
            (``num_batches_tracked`` ignored, as mmengine does).
        unexpected (list[str]): In the checkpoint, not in the model.
        mismatched (list[tuple]): ``(key, checkpoint shape, model shape)``.
        num_model_keys (int): Entries of the model's state dict.
        missing_allowed (list[str]): Missing model keys under the module
            names allowed to miss (not counted in ``missing``).
    """
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)
    num_model_keys: int = 0
    missing_allowed: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every key fits."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, max_keys: int = 5) -> str:
        """Human-readable counts and the first ``max_keys`` of each kind."""

        def first(items: Sequence[str]) -> str:
            more = len(items) - max_keys
            text = ', '.join(items[:max_keys])
            return text + (f', ... (+{more} more)' if more > 0 else '')

        lines = []
        if self.missing:
            lines.append(f'{len(self.missing)} of {self.num_model_keys} '
                         f'model keys missing from the checkpoint: '
                         f'{first(self.missing)}')
        if self.unexpected:
            lines.append(f'{len(self.unexpected)} unexpected checkpoint '
                         f'keys: {first(self.unexpected)}')
        if self.mismatched:
            shapes = [
                f'{key} {list(ckpt)} vs model {list(model)}'
                for key, ckpt, model in self.mismatched
            ]
            lines.append(f'{len(self.mismatched)} keys with a different '
                         f'shape: {first(shapes)}')
        return '\n'.join(lines)


def _unwrap(model: nn.Module) -> nn.Module:
    """The module mmengine loads weights into (as ``load_state_dict``)."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def _state_dict_of(checkpoint: Mapping) -> Mapping:
    return checkpoint.get('state_dict', checkpoint)


def inserted_block_prefixes(model: nn.Module) -> List[str]:
    """Module names of the blocks inserted by a backbone's ``plugins``.

    A residual block lists its plugins in ``after_conv1_plugin_names``,
    ``after_conv2_plugin_names``, ``after_conv3_plugin_names`` (mmdet's
    Bottleneck) and ``after_add_plugin_names``
    (:class:`~gcnet_plugin.models.backbones.PluginBottleneck`).

    Args:
        model (nn.Module): The model (wrappers and TTA models unwrapped).

    Returns:
        list[str]: E.g. ``['backbone.layer2.0.context_block', ...]``, in
        module order; empty for a model without plugins.
    """
    prefixes = []
    for name, module in _unwrap(model).named_modules():
        for attr in PLUGIN_NAME_LISTS:
            for child in getattr(module, attr, None) or ():
                prefixes.append(f'{name}.{child}' if name else child)
    return prefixes


def _under(key: str, prefixes: Sequence[str]) -> bool:
    return any(key.startswith(prefix + '.') for prefix in prefixes)


def check_checkpoint_fits(model: nn.Module,
                          checkpoint: Mapping,
                          revise_keys: RevisePairs = DEFAULT_REVISE_KEYS,
                          raise_error: bool = True,
                          name: str = 'checkpoint',
                          may_miss: Sequence[str] = (),
                          advice: str = TEST_ADVICE) -> CheckpointFit:
    """Compare a checkpoint's weights with a model's state dict.

    Args:
        model (nn.Module): The model (wrappers and TTA models unwrapped).
        checkpoint (Mapping): A loaded checkpoint, with or without a
            ``state_dict`` entry.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to checkpoint keys, as ``Runner.load_checkpoint`` does.
            Defaults to stripping ``module.``.
        raise_error (bool): Raise when the checkpoint does not fit.
            Defaults to True.
        name (str): The checkpoint's name for the error message.
        may_miss (Sequence[str]): Module names (e.g. from
            :func:`inserted_block_prefixes`) whose keys may be missing
            from the checkpoint. Default: none.
        advice (str): The error message's last line (what to do).

    Returns:
        CheckpointFit: The comparison.

    Raises:
        CheckpointMismatchError: ``raise_error`` and a key does not fit.
    """
    ckpt_state = _state_dict_of(checkpoint)
    for pattern, replacement in revise_keys:
        ckpt_state = {
            re.sub(pattern, replacement, k): v
            for k, v in ckpt_state.items()
        }
    model_state: Dict[str, torch.Tensor] = _unwrap(model).state_dict()
    fit = CheckpointFit(num_model_keys=len(model_state))
    for key, value in model_state.items():
        if key not in ckpt_state:
            if _under(key, may_miss):
                fit.missing_allowed.append(key)
            elif not key.endswith('num_batches_tracked'):
                fit.missing.append(key)
            continue
        ckpt_shape = tuple(getattr(ckpt_state[key], 'shape', ()))
        if ckpt_shape != tuple(value.shape):
            fit.mismatched.append((key, ckpt_shape, tuple(value.shape)))
    fit.unexpected = [k for k in ckpt_state if k not in model_state]
    if raise_error and not fit.ok:
        raise CheckpointMismatchError(
            f'{name} does not fit the model of this config:\n'
            f'{fit.summary()}\n{advice}')
    return fit


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Check the checkpoint the Runner loads before it reaches the model.

    Args:
        allow_partial (bool): Only warn when the checkpoint does not fit.
            Defaults to False.
        name (str, optional): The checkpoint's name for messages.
        allow_missing_blocks (bool): Let the keys of the blocks inserted
            by the backbone's ``plugins`` (:func:`inserted_block_prefixes`)
            be missing: fine-tuning from a model without them; they keep
            their initialisation. Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 allow_partial: bool = False,
                 name: Optional[str] = None,
                 allow_missing_blocks: bool = False) -> None:
        self.allow_partial = allow_partial
        self.name = name
        self.allow_missing_blocks = allow_missing_blocks

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        may_miss, advice = (), TEST_ADVICE
        if self.allow_missing_blocks:
            may_miss = inserted_block_prefixes(runner.model)
            advice = (
                f'Only the keys of the {len(may_miss)} blocks this config '
                'inserts may be missing; the checkpoint must hold every '
                'other weight of the model, with its shape (load_from: the '
                'model trained without the blocks, e.g. stage 1 of '
                'docs/imagenet.md).')
        fit = check_checkpoint_fits(
            runner.model,
            checkpoint,
            raise_error=not self.allow_partial,
            name=self.name or 'The checkpoint',
            may_miss=may_miss,
            advice=advice)
        if fit.missing_allowed:
            print_log(
                f'{len(fit.missing_allowed)} keys of {len(may_miss)} '
                'inserted blocks are not in the checkpoint; the blocks keep '
                'their initialisation.',
                logger='current',
                level=logging.INFO)
        if not fit.ok:
            print_log(
                'The checkpoint does not fit the model; evaluating anyway '
                f'(--allow-partial):\n{fit.summary()}',
                logger='current',
                level=logging.WARNING)
