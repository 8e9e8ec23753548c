"""PluginFCNMaskHead: mmdet's mask targets and loss, each ground truth
mask read once."""
import numpy as np
import pytest
import torch
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks, PolygonMasks, mask_target
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from gcnet_plugin.models.roi_heads import bitmap_mask_targets


def image_masks(gts: int, h: int, w: int, seed: int) -> BitmapMasks:
    """[gts, h, w] uint8 ellipses."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:h, :w]
    masks = []
    for _ in range(gts):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(3, h / 2), rng.uniform(3, w / 2)
        masks.append(((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1)
    return BitmapMasks(np.stack(masks).astype(np.uint8), h, w)


def random_boxes(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """[n, 4] boxes, some past the image's edges."""
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * torch.tensor([w, h]) - 8
    wh = torch.rand(n, 2, generator=gen) * torch.tensor([w, h]) + 1
    return torch.cat([xy, xy + wh], 1)


@pytest.mark.parametrize('soft', [False, True])
def test_targets_are_mmdets(soft):
    cfg = ConfigDict(mask_size=(14, 10), soft_mask_target=soft)
    boxes, inds, masks = [], [], []
    for seed, (gts, n) in enumerate([(3, 20), (1, 5), (4, 0)]):
        boxes.append(random_boxes(n, 48, 40, seed))
        inds.append(torch.randint(0, gts, (n, )))
        masks.append(image_masks(gts, 48, 40, seed))
    # mmdet clips the boxes in place (through a numpy view): copies
    ref = mask_target([b.clone() for b in boxes], inds, masks, cfg)
    ours = torch.cat([
        bitmap_mask_targets(b, i, m, cfg.mask_size, not soft)
        for b, i, m in zip(boxes, inds, masks)
    ])
    assert ours.shape == ref.shape == (25, 14, 10)
    assert ours.dtype == ref.dtype
    assert torch.equal(ours, ref)
    # not all empty, not all full
    assert 0 < (ref > 0.5).float().mean() < 1


def build_heads():
    init_default_scope('mmdet')
    cfg = dict(
        num_convs=1,
        in_channels=4,
        conv_out_channels=4,
        num_classes=2,
        class_agnostic=True)
    torch.manual_seed(0)
    ref = MODELS.build(dict(type='FCNMaskHead', **cfg))
    ours = MODELS.build(dict(type='PluginFCNMaskHead', **cfg))
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def sampling(n: int, gts: int, seed: int) -> SamplingResult:
    """The fields of a sampling result the mask head reads: n positives
    spread over gts ground truths."""
    result = SamplingResult.__new__(SamplingResult)
    result.pos_priors = random_boxes(n, 48, 40, seed)
    result.pos_assigned_gt_inds = torch.arange(n) % gts
    result.pos_gt_labels = torch.zeros(n, dtype=torch.long)
    return result


@pytest.mark.parametrize('polygons', [False, True])
def test_head_loss_is_fcn_mask_heads(polygons):
    ref, ours = build_heads()
    results = [sampling(6, 2, 0), sampling(3, 3, 1)]
    gts = []
    for seed, gt in enumerate([2, 3]):
        masks = image_masks(gt, 48, 40, seed)
        if polygons:
            # a square polygon per mask: mmdet's polygon path
            masks = PolygonMasks(
                [[np.array([4., 4., 30., 4., 30., 30., 4., 30.])]] * gt, 48,
                40)
        gts.append(InstanceData(masks=masks, labels=torch.zeros(gt).long()))
    feats = torch.randn(9, 4, 7, 7, generator=torch.Generator().manual_seed(2))
    cfg = ConfigDict(mask_size=14)
    losses = [
        head.loss_and_target(head(feats), results, gts, cfg)
        for head in (ref, ours)
    ]
    assert torch.equal(losses[0]['mask_targets'], losses[1]['mask_targets'])
    torch.testing.assert_close(losses[1]['loss_mask']['loss_mask'],
                               losses[0]['loss_mask']['loss_mask'])
