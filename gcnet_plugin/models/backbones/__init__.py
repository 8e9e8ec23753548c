"""ResNet/ResNeXt that place the blocks by config."""
from .plugin_resnet import (BlockFactory, PluginBottleneck, PluginResNet,
                            PluginResNeXt, PluginXBottleneck,
                            build_block_plugin)
from .plugin_resnet3d_slowonly import (PluginBottleneck3d,
                                       PluginResNet3dSlowOnly)

__all__ = [
    'BlockFactory', 'PluginBottleneck', 'PluginResNet', 'PluginResNeXt',
    'PluginXBottleneck', 'build_block_plugin', 'PluginBottleneck3d',
    'PluginResNet3dSlowOnly'
]
