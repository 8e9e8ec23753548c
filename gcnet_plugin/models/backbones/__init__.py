"""ResNet/ResNeXt that place the blocks by config."""
from .plugin_resnet import (BlockFactory, PluginBottleneck, PluginResNet,
                            PluginResNeXt, PluginXBottleneck,
                            build_block_plugin)

__all__ = [
    'BlockFactory', 'PluginBottleneck', 'PluginResNet', 'PluginResNeXt',
    'PluginXBottleneck', 'build_block_plugin'
]
