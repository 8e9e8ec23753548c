"""--fuse-conv-bn: folding BN into the conv before it keeps the GC
model's features (eval mode) and removes the BNs."""
import copy
from types import SimpleNamespace

import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope
from torch import nn

from gcnet_plugin.cli import FuseConvBNHook

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


def test_fused_model_computes_the_same_features(load_config):
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(load_config(QUICKSTART).model)
    for module in model.modules():  # BN statistics that matter
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model.extract_feat(x)
    num_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    fused = copy.deepcopy(model)
    FuseConvBNHook().before_test(SimpleNamespace(model=fused))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert num_bn > 50
    assert any('context_block' in n for n, _ in fused.named_modules())
    with torch.no_grad():
        after = fused.extract_feat(x)
    for a, b in zip(after, before):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
