"""MMAction2's slow-only ResNet3d with the plugin placement of PluginResNet.

GCNet (Cao et al., 2019), section 5.3 and Table 5: the blocks in a
slow-only ResNet-50 (Feichtenhofer et al., SlowFast, 2019) for Kinetics.
Reference code consulted: mmaction2 1.2.0
``mmaction/models/backbones/resnet3d.py`` (``Bottleneck3d``, ``ResNet3d``)
and ``resnet3d_slowonly.py``.

The ``plugins`` format is :mod:`.plugin_resnet`'s (MMDetection's, with
``position='after_add'`` and ``block_indices``), built by the same
:func:`~.plugin_resnet.build_block_plugin` and placed by the same
:class:`~.plugin_resnet.BlockFactory`, with one more position for video::

    dict(cfg=dict(type='ContextBlock', ratio=1 / 4),
         stages=(False, True, True, False),
         position='after_block',    # new: after the block's final ReLU
         block_indices=(0, 2, 4))   # python indices per selected stage

``'after_block'`` is where MMAction2 puts its non-local blocks (on the
block's output, after the final ReLU), so Table 5's "+5" rows put NL, SNL
and GC exactly there. The other positions are those of the 2-D backbone:
``'after_conv1'``/``'after_conv2'`` (``planes`` channels), ``'after_conv3'``
(the paper's "after1x1", before the residual addition) and
``'after_add'`` (after the addition, before the ReLU).

MMAction2's own ``non_local``/``non_local_cfg`` arguments keep working and
build our :class:`~gcnet_plugin.models.layers.NonLocal3d` (a drop-in for
mmcv's) as ``non_local_block``, so MMAction2's non-local models and
checkpoints load unchanged. Blocks are 3-D as configured: a non-local
plugin needs ``dimension=3``; the GC family pools clips as they come.

Plugins are not inflated from ImageNet weights (mmaction2 inflates its
ConvModules and logs the rest as missing): with ``pretrained``, they keep
their constructor init; without, :meth:`init_weights` re-applies each
block's own ``init_weights()`` after ResNet3d's Kaiming init (which would
otherwise also overwrite a non-local block's zero-initialised BN).
"""
from typing import Any, Dict, List, Optional

import torch.utils.checkpoint as cp
from mmaction import __version__ as mmaction_version
from mmaction.models.backbones.resnet3d import Bottleneck3d, ResNet3d
from mmaction.models.backbones.resnet3d_slowonly import ResNet3dSlowOnly
from torch import Tensor, nn

from ..layers.arg_checks import check_choice
from ..layers.non_local_nd import NonLocal3d
from .plugin_resnet import POSITIONS, BlockFactory, build_block_plugin

POSITIONS_3D = POSITIONS + ('after_block', )


class PluginBottleneck3d(Bottleneck3d):
    """mmaction2's ``Bottleneck3d`` with plugins at the five positions.

    Args:
        inplanes (int): Channels of the block's input.
        planes (int): Bottleneck channels; the output has ``planes * 4``.
        *args: ``Bottleneck3d``'s other positional arguments.
        non_local (bool): Append our ``NonLocal3d(**non_local_cfg)`` as
            ``non_local_block`` after the ReLU, as mmaction2 does with
            mmcv's. Default: False.
        non_local_cfg (dict): Its arguments. Default: ``{}``.
        plugins (list[dict], optional): ``dict(cfg=..., position=...)``
            for this block (``stages``/``block_indices`` already applied).
        **kwargs: ``Bottleneck3d``'s keyword arguments.

    Shape:
        x: [N, inplanes, T, H, W] -> [N, planes * 4, T / st, H / s, W / s]
    """

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 *args: Any,
                 non_local: bool = False,
                 non_local_cfg: Optional[Dict] = None,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs: Any) -> None:
        non_local_cfg = dict(non_local_cfg or {})
        super().__init__(inplanes, planes, *args, non_local=False, **kwargs)
        self.non_local, self.non_local_cfg = non_local, non_local_cfg
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion,
                                              **non_local_cfg)
        channels = dict.fromkeys(POSITIONS_3D, planes * self.expansion)
        channels.update(after_conv1=planes, after_conv2=planes)
        plugins = list(plugins or [])
        for p in plugins:
            check_choice('plugin position', p.get('position'), POSITIONS_3D)
        self.plugin_names: Dict[str, List[str]] = {}
        for position in POSITIONS_3D:
            names = []
            for p in plugins:
                if p['position'] != position:
                    continue
                name, layer = build_block_plugin(p['cfg'], channels[position])
                if hasattr(self, name):
                    raise ValueError(
                        f'two plugins named {name!r} in one block; give '
                        'one of them a postfix in its cfg')
                self.add_module(name, layer)
                names.append(name)
            self.plugin_names[position] = names

    def _plugins(self, x: Tensor, position: str) -> Tensor:
        for name in self.plugin_names[position]:
            x = getattr(self, name)(x)
        return x

    def plugin_blocks(self) -> List[nn.Module]:
        """The blocks this module built: plugins, then ``non_local_block``."""
        blocks = [
            getattr(self, name) for names in self.plugin_names.values()
            for name in names
        ]
        return blocks + ([self.non_local_block] if self.non_local else [])

    def forward(self, x: Tensor) -> Tensor:
        """Bottleneck3d forward with the plugins at their positions."""

        def _inner_forward(x: Tensor) -> Tensor:
            identity = x
            out = self._plugins(self.conv1(x), 'after_conv1')
            out = self._plugins(self.conv2(out), 'after_conv2')
            out = self._plugins(self.conv3(out), 'after_conv3')
            if self.downsample is not None:
                identity = self.downsample(x)
            return self._plugins(out + identity, 'after_add')

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        out = self.relu(out)
        if self.non_local:
            out = self.non_local_block(out)
        return self._plugins(out, 'after_block')


class BlockFactory3d(BlockFactory):
    """:class:`BlockFactory` for mmaction2's ``ResNet3d.make_res_layer``,
    which passes ``inplanes`` and ``planes`` by position."""

    def __call__(self,
                 inplanes: int,
                 planes: int,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs: Any) -> nn.Module:
        return super().__call__(
            inplanes=inplanes, planes=planes, plugins=plugins, **kwargs)

    def check_layer(self, layer: nn.Module) -> None:
        """Raise ``RuntimeError`` unless ``layer`` holds, in order, exactly
        the ``num_blocks`` blocks of this factory's calls."""
        built, self.built = self.built, []  # no references kept
        children = list(layer.children())
        if len(built) != self.num_blocks or len(children) != len(built) or any(
                a is not b for a, b in zip(children, built)):
            raise RuntimeError(
                f'mmaction2 {mmaction_version}\'s ResNet3d.make_res_layer '
                f'called BlockFactory3d {len(built)} times for a stage of '
                f'{self.num_blocks} blocks and kept {len(children)} modules '
                'in another order or number; PluginResNet3dSlowOnly relies '
                'on one call per block, in order (mmaction2 1.2.0), to place '
                'block_indices.')


class PluginResNet3dSlowOnly(ResNet3dSlowOnly):
    """mmaction2's ``ResNet3dSlowOnly`` whose blocks take ``plugins``.

    Args:
        plugins (list[dict], optional): Blocks to place, in the format of
            the module docstring. Default: None.
        **kwargs: ``ResNet3dSlowOnly``'s arguments (``depth`` 50 or more:
            plugins need bottleneck blocks).

    Shape:
        x: [N, 3, T, H, W] -> [N, 2048, T, H / 32, W / 32] (R50, default
        ``out_indices=(3, )``)
    """

    def __init__(self,
                 plugins: Optional[List[Dict]] = None,
                 **kwargs: Any) -> None:
        num_stages = kwargs.get('num_stages', 4)
        self.plugins = [dict(p) for p in plugins or []]
        for p in self.plugins:
            check_choice('plugin position', p.get('position'), POSITIONS_3D)
            stages = p.get('stages')
            if stages is not None and len(stages) != num_stages:
                raise ValueError(
                    f'plugin stages {tuple(stages)} has {len(stages)} '
                    f'entries; give one per stage ({num_stages})')
        super().__init__(**kwargs)

    def make_res_layer(self, block: type, inplanes: int, planes: int,
                       blocks: int, **kwargs: Any) -> nn.Module:
        """``ResNet3d.make_res_layer`` with plugins for this stage."""
        stage = len(self.res_layers)  # ResNet3d appends after each stage
        plugins = [{
            k: v
            for k, v in p.items() if k != 'stages'
        } for p in self.plugins
                   if p.get('stages') is None or p['stages'][stage]]
        if block is not Bottleneck3d:
            if plugins:
                raise TypeError(f'plugins need Bottleneck3d blocks (depth '
                                f'>= 50), not {block.__name__}')
            return ResNet3d.make_res_layer(block, inplanes, planes, blocks,
                                           **kwargs)
        factory = BlockFactory3d(PluginBottleneck3d, blocks)
        layer = ResNet3d.make_res_layer(
            factory, inplanes, planes, blocks, plugins=plugins, **kwargs)
        factory.check_layer(layer)
        return layer

    def init_weights(self, pretrained: Optional[str] = None) -> None:
        """ResNet3d's init (inflation or Kaiming); without pretrained
        weights, then each plugin block's own ``init_weights()``."""
        super().init_weights(pretrained)
        if self.pretrained is not None:
            return
        for module in self.modules():
            if isinstance(module, PluginBottleneck3d):
                for block in module.plugin_blocks():
                    block.init_weights()
