"""ResNet and ResNeXt that place plugin blocks anywhere the paper needs.

GCNet (Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation
Networks and Beyond", 2019), Table 2: the blocks sit after the last 1x1
conv of a residual block ("after1x1", MMDetection's ``after_conv3``), or
after the residual addition and before the final ReLU ("afterAdd", the
first commit of https://github.com/xvjiarui/GCNet; the non-local block
always sits there), in all blocks of a stage or in one block ("+1 NL":
right before the last residual block of c4).

The ``plugins`` format is MMDetection's, with two additions::

    dict(cfg=dict(type='NonLocal'),      # built from mmdet's MODELS
         stages=(False, False, True, False),
         position='after_add',           # new: on out + identity
         block_indices=(-2, ))           # new: python indices per stage

Plugins are built from :data:`mmdet.registry.MODELS` whatever the default
scope, so ``type='ContextBlock'`` is always ours. Module names are those
of MMDetection (``layer2.0.context_block.conv_mask.weight``), so
MMDetection's GCNet checkpoints load with ``strict=True``.
"""
import inspect
from typing import Dict, List, Optional, Sequence, Tuple

import torch.utils.checkpoint as cp
from mmcv.cnn.bricks.plugin import infer_abbr
from mmdet import __version__ as mmdet_version
from mmdet.models.backbones.resnet import Bottleneck, ResNet
from mmdet.models.backbones.resnext import Bottleneck as XBottleneck
from mmdet.models.backbones.resnext import ResNeXt
from mmdet.registry import MODELS
from torch import Tensor, nn

from ..layers.arg_checks import check_choice

POSITIONS = ('after_conv1', 'after_conv2', 'after_conv3', 'after_add')


def build_block_plugin(cfg: Dict, in_channels: int) -> Tuple[str, nn.Module]:
    """Build one plugin from mmdet's MODELS, ignoring the default scope.

    Args:
        cfg (dict): ``type`` (a registered name or a class), optional
            ``postfix`` appended to the module name, and the block's
            keyword arguments.
        in_channels (int): Channels of the feature the plugin sees.

    Returns:
        tuple[str, nn.Module]: ``_abbr_ + postfix`` and the built block.
    """
    cfg = dict(cfg)
    postfix = cfg.pop('postfix', '')
    layer_type = cfg.pop('type')
    cls = layer_type if inspect.isclass(layer_type) else MODELS.get(layer_type)
    if cls is None:
        raise KeyError(f'plugin type {layer_type!r} is not registered in '
                       'mmdet.registry.MODELS; is gcnet_plugin imported?')
    return infer_abbr(cls) + str(postfix), cls(in_channels=in_channels, **cfg)


class AfterAddMixin:
    """Bottleneck mixin: ``after_add`` plugins and mmdet-registry plugins.

    ``after_add`` plugins take ``planes * expansion`` channels and act on
    ``out + identity`` before the final ReLU (also under ``with_cp``); the
    mixin's ``forward`` replaces the Bottleneck's to run them.

    It also takes over plugin building for every position: mmdet's
    ``Bottleneck.__init__`` builds its ``after_conv1/2/3`` plugins through
    ``self.make_block_plugins``, which this mixin overrides, so those are
    built by :func:`build_block_plugin` (mmdet's MODELS, whatever the
    default scope) and not by mmcv's ``build_plugin_layer``.
    """

    def __init__(self,
                 *args,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs) -> None:
        plugins = list(plugins or [])
        after_add = [p['cfg'] for p in plugins if p['position'] == 'after_add']
        inner = [p for p in plugins if p['position'] != 'after_add']
        super().__init__(*args, plugins=inner or None, **kwargs)
        self.after_add_plugin_names = self.make_block_plugins(
            self.planes * self.expansion, after_add)

    def make_block_plugins(self, in_channels: int,
                           plugins: List[Dict]) -> List[str]:
        """Build ``plugins`` as named submodules; return their names."""
        names = []
        for cfg in plugins:
            name, layer = build_block_plugin(cfg, in_channels)
            assert not hasattr(self, name), f'duplicate plugin {name}'
            self.add_module(name, layer)
            names.append(name)
        return names

    def forward(self, x: Tensor) -> Tensor:
        """Bottleneck forward with plugins at the four positions.

        Shape:
            x: [N, inplanes, H, W] -> [N, planes * 4, H / s, W / s]
        """

        def _inner_forward(x: Tensor) -> Tensor:
            identity = x
            out = self.relu(self.norm1(self.conv1(x)))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv1_plugin_names)
            out = self.relu(self.norm2(self.conv2(out)))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv2_plugin_names)
            out = self.norm3(self.conv3(out))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv3_plugin_names)
            if self.downsample is not None:
                identity = self.downsample(x)
            out = out + identity
            return self.forward_plugin(out, self.after_add_plugin_names)

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)


class PluginBottleneck(AfterAddMixin, Bottleneck):
    """mmdet's ResNet Bottleneck with ``after_add`` plugins."""


class PluginXBottleneck(AfterAddMixin, XBottleneck):
    """mmdet's ResNeXt Bottleneck with ``after_add`` plugins."""


_PLUGIN_BLOCKS = {Bottleneck: PluginBottleneck, XBottleneck: PluginXBottleneck}


class BlockFactory:
    """Stands in for the block class in mmdet's ``ResLayer``.

    It relies on how mmdet's ``ResLayer`` uses its ``block`` argument: it
    reads ``block.expansion`` and calls ``block(**kwargs)`` once per
    residual block, in the order of the blocks in the stage. The factory
    counts the calls, takes the i-th call to build block i and hands it
    only the plugins whose ``block_indices`` select i. :meth:`check_layer`
    verifies this assumption on every stage built, so a ``ResLayer`` that
    calls the factory differently fails loudly instead of placing the
    blocks on the wrong residual blocks.

    Args:
        block (type): The residual block class to build.
        num_blocks (int): Blocks in the stage (resolves negative indices).
    """

    def __init__(self, block: type, num_blocks: int) -> None:
        self.block = block
        self.expansion = block.expansion
        self.num_blocks = num_blocks
        self.index = 0
        self.built: List[nn.Module] = []

    def __call__(self,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs) -> nn.Module:
        selected = [
            p for p in plugins or []
            if self.index in self.resolve(p.get('block_indices'))
        ]
        selected = [{
            k: v
            for k, v in p.items() if k != 'block_indices'
        } for p in selected]
        self.index += 1
        block = self.block(plugins=selected or None, **kwargs)
        self.built.append(block)
        return block

    def check_layer(self, layer: nn.Module) -> None:
        """Raise ``RuntimeError`` unless ``layer`` holds, in order, exactly
        the ``num_blocks`` blocks of this factory's calls."""
        built, self.built = self.built, []  # no references kept
        children = list(layer.children())
        in_order = len(children) == len(built) and all(
            a is b for a, b in zip(children, built))
        if len(built) != self.num_blocks or not in_order:
            raise RuntimeError(
                f'mmdet {mmdet_version}\'s ResLayer called BlockFactory '
                f'{len(built)} times for a stage of {self.num_blocks} blocks '
                f'and kept {len(children)} modules'
                f'{"" if in_order else ", not the blocks in call order"}. '
                'BlockFactory (gcnet_plugin.models.backbones.plugin_resnet) '
                'relies on ResLayer calling it once per block, in order, as '
                'mmdet 3.3.0 does; block_indices would select the wrong '
                'blocks.')

    def resolve(self, indices: Optional[Sequence[int]]) -> Sequence[int]:
        """Map python indices (negative allowed) to block positions."""
        if indices is None:
            return range(self.num_blocks)
        if isinstance(indices, int):
            indices = (indices, )
        for i in indices:
            if not -self.num_blocks <= i < self.num_blocks:
                raise IndexError(f'block_indices {tuple(indices)} out of '
                                 f'range for a stage of {self.num_blocks}')
        return [i % self.num_blocks for i in indices]


class PluginResLayerMixin:
    """Backbone mixin: checks plugin specs, wires in :class:`BlockFactory`."""

    def __init__(self,
                 *args,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs) -> None:
        for p in plugins or []:
            check_choice('plugin position', p.get('position'), POSITIONS)
        super().__init__(*args, plugins=plugins, **kwargs)

    def make_res_layer(self, **kwargs) -> nn.Module:
        """mmdet's ``make_res_layer`` with a plugin-aware block factory."""
        block = kwargs['block']
        if block not in _PLUGIN_BLOCKS:
            if kwargs.get('plugins'):
                raise TypeError(f'plugins need a Bottleneck, not {block}')
            return super().make_res_layer(**kwargs)
        # also without plugins: the with_cp path of AfterAddMixin
        factory = BlockFactory(_PLUGIN_BLOCKS[block], kwargs['num_blocks'])
        layer = super().make_res_layer(**dict(kwargs, block=factory))
        factory.check_layer(layer)
        return layer


@MODELS.register_module()
class PluginResNet(PluginResLayerMixin, ResNet):
    """mmdet ``ResNet`` whose ``plugins`` also accept ``position='after_add'``
    and ``block_indices``; see the module docstring.

    Shape:
        x: [N, 3, H, W] -> tuple of [N, 256 * 2**i, H / 2**(i+2), ...]
    """


@MODELS.register_module()
class PluginResNeXt(PluginResLayerMixin, ResNeXt):
    """mmdet ``ResNeXt`` with the plugin placement of
    :class:`PluginResNet`.

    Shape:
        x: [N, 3, H, W] -> tuple of [N, 256 * 2**i, H / 2**(i+2), ...]
    """
