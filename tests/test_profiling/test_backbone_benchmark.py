"""The three backbones of the backbone benchmark (a run of it:
tests/test_tools/test_benchmark_backbone.py)."""
from mmcv.cnn import ContextBlock as MMCVContextBlock

from gcnet_plugin.models.layers import ContextBlock
from gcnet_plugin.profiling.backbone_benchmark import build_backbone


def _blocks(model, cls):
    return [m for m in model.modules() if type(m) is cls]


def test_variants_differ_only_in_their_blocks():
    plain = build_backbone(None, 50)
    mmcv = build_backbone(MMCVContextBlock, 50)
    ours = build_backbone(ContextBlock, 50)
    # c3-c5 of ResNet-50: 4 + 6 + 3 residual blocks
    assert len(_blocks(mmcv, MMCVContextBlock)) == 13
    assert len(_blocks(ours, ContextBlock)) == 13
    assert not _blocks(plain, MMCVContextBlock) + _blocks(plain, ContextBlock)
    # same parameters, same names: the blocks are the only difference
    assert ({
        k: v.shape
        for k, v in mmcv.state_dict().items()
    } == {
        k: v.shape
        for k, v in ours.state_dict().items()
    })
    assert set(plain.state_dict()) < set(ours.state_dict())
    assert ours.training and mmcv.training and plain.training
