"""PluginRPNHead: mmdet's RPN proposals, also for a level of one anchor."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope


def build_heads(ratios, iou_threshold=0.7, max_per_img=30):
    init_default_scope('mmdet')
    cfg = dict(
        in_channels=8,
        feat_channels=8,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[4],
            ratios=ratios,
            strides=[4, 8, 16, 32, 64]),
        test_cfg=ConfigDict(
            nms_pre=20,
            max_per_img=max_per_img,
            nms=dict(type='nms', iou_threshold=iou_threshold),
            min_bbox_size=-1))
    torch.manual_seed(0)
    ref = MODELS.build(dict(type='RPNHead', **cfg))
    ours = MODELS.build(dict(type='PluginRPNHead', **cfg))
    ours.load_state_dict(ref.state_dict())
    return ref.eval(), ours.eval()


def proposals(head, size: int):
    """Proposals of 2 images of size x size from random FPN maps."""
    gen = torch.Generator().manual_seed(size)
    feats = [
        torch.randn(2, 8, -(-size // s), -(-size // s), generator=gen)
        for s in (4, 8, 16, 32, 64)
    ]
    metas = [dict(img_shape=(size, size), scale_factor=(1., 1.))] * 2
    with torch.no_grad():
        return head.predict_by_feat(
            *head(feats), batch_img_metas=metas, rescale=False)


@pytest.mark.parametrize('ratios', [[1.0], [0.5, 1.0, 2.0]])
def test_same_proposals_as_rpn_head(ratios):
    ref, ours = build_heads(ratios)
    for theirs, mine in zip(proposals(ref, 160), proposals(ours, 160)):
        assert len(mine) == len(theirs) > 20
        assert torch.equal(mine.bboxes, theirs.bboxes)
        assert torch.equal(mine.scores, theirs.scores)


def test_one_anchor_on_a_1x1_level():
    # NMS runs within each level: the 1x1 level's one box is always kept
    ref, ours = build_heads([1.0], max_per_img=1000)
    # 64 px: levels of 16x16, 8x8, 4x4, 2x2 and 1x1, one anchor each
    with pytest.raises(IndexError):
        proposals(ref, 64)
    results = proposals(ours, 64)
    assert all(len(r) > 20 for r in results)
    # the 1x1 level's box: its one anchor moved by its deltas, clipped to
    # the image
    gen = torch.Generator().manual_seed(64)
    feats = [
        torch.randn(2, 8, -(-64 // s), -(-64 // s), generator=gen)
        for s in (4, 8, 16, 32, 64)
    ]
    _, deltas = ours(feats)
    sizes = [tuple(f.shape[-2:]) for f in feats]
    anchor = ours.prior_generator.grid_priors(sizes, device='cpu')[-1]
    with torch.no_grad():
        box = ours.bbox_coder.decode(
            anchor, deltas[-1][0].reshape(1, 4), max_shape=(64, 64))
    assert (results[0].bboxes - box).abs().sum(1).min() < 1e-5


def test_config_builds_it():
    init_default_scope('mmdet')
    head = MODELS.build(
        ConfigDict(
            type='PluginRPNHead',
            in_channels=4,
            anchor_generator=dict(
                type='AnchorGenerator', scales=[8], ratios=[1.0],
                strides=[4])))
    assert head.num_base_priors == 1
