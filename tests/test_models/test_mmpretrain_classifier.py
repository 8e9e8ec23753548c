"""MMPretrain's ImageClassifier on our PluginResNet: the paper's ResNet-50
and GC-ResNet-50 parameter counts, and the COCO placements."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import gcnet_plugin  # noqa: F401  (registers the blocks)
from gcnet_plugin.models.layers import ContextBlock

GC_ALL = dict(
    cfg=dict(type='ContextBlock', ratio=1. / 16),
    stages=(False, True, True, True),
    position='after_conv3')


def classifier(num_classes: int = 1000, width: int = 64, **backbone):
    """ImageClassifier + PluginResNet-50 (``width`` = base channels) +
    global average pooling + linear head."""
    init_default_scope('mmpretrain')
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='PluginResNet',
                depth=50,
                base_channels=width,
                stem_channels=width,
                out_indices=(3, ),
                **backbone),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=num_classes,
                in_channels=32 * width)))


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def gc_params(c: int, r: int) -> int:
    """conv_mask (C + 1), C->R conv (CR + R), LN (2R), R->C conv (RC + C)."""
    return (c + 1) + (c * r + r) + 2 * r + (r * c + c)


def test_resnet50_and_gc_resnet50_params():
    """25.557 M (Table 4 baseline 25.56) and + 2.52 M for GC r16 in all
    13 c3-c5 blocks (Table 4 "+all GC" 28.08; section 4.3)."""
    with torch.device('meta'):  # shapes only: no memory, no init
        base = num_params(classifier())
        gc = num_params(classifier(plugins=[GC_ALL]))
    assert base == 25_557_032  # torchvision's resnet50
    blocks = 4 * gc_params(512, 32) + 6 * gc_params(1024, 64) + \
        3 * gc_params(2048, 128)
    assert gc - base == blocks == 2_521_741


def test_gc_classifier_runs_with_blocks_where_placed():
    model = classifier(num_classes=10, width=8, plugins=[GC_ALL])
    model.init_weights()
    names = [
        name for name, m in model.named_modules()
        if isinstance(m, ContextBlock)
    ]
    assert len(names) == 13
    assert names[0] == 'backbone.layer2.0.context_block'
    assert names[-1] == 'backbone.layer4.2.context_block'
    model.eval()
    logits = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert logits.shape == (2, 10)


@pytest.mark.parametrize('style,stride_conv', [('caffe', 'conv1'),
                                               ('pytorch', 'conv2')])
def test_style_places_the_stride(style, stride_conv):
    """style='caffe' (the ImageNet configs): stride 2 in the first 1x1
    conv of c3-c5, as the original ResNet-50; 'pytorch': in the 3x3."""
    with torch.device('meta'):
        model = classifier(style=style)
    for layer in ('layer2', 'layer3', 'layer4'):
        first = getattr(model.backbone, layer)[0]
        assert getattr(first, stride_conv).stride == (2, 2)
