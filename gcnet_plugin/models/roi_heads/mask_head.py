"""mmdet's FCN mask head, with its training targets cut from each ground
truth mask once.

mmdet's ``mask_target`` copies a ground truth mask for every positive RoI
(``BitmapMasks.crop_and_resize``: ``index_select`` of the uint8 masks,
then a float copy of each) before mmcv's ``roi_align`` cuts the RoI out.
The same ``roi_align`` can read the masks of an image as a batch, each
RoI pointing at its own ground truth mask by its batch index: the same
targets, value for value, without the per-RoI copies
(docs/quickstart.md has the measurement).

Shape shorthand: n positive RoIs of an image, G its ground truth masks,
H x W the image, M x M the mask size.
"""
from typing import List

import torch
from mmcv.ops import roi_align
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import ConfigType, InstanceList
from torch import Tensor
from torch.nn.modules.utils import _pair

__all__ = ['PluginFCNMaskHead', 'bitmap_mask_targets']


def bitmap_mask_targets(rois: Tensor,
                        gt_inds: Tensor,
                        masks: BitmapMasks,
                        mask_size: int,
                        binarize: bool = True) -> Tensor:
    """mmdet's ``mask_target_single`` for bitmap masks, each mask read once.

    Args:
        rois (Tensor): [n, 4] positive boxes (x1, y1, x2, y2) in image
            pixels.
        gt_inds (Tensor): [n] index of each box's ground truth mask.
        masks (BitmapMasks): The image's G masks, [G, H, W].
        mask_size (int | tuple[int, int]): M (or (M_h, M_w)).
        binarize (bool): Threshold at 0.5 (mmdet's default; False is
            ``soft_mask_target``). Default: True.

    Returns:
        Tensor: [n, M, M] float targets on ``rois``' device.
    """
    size = _pair(mask_size)
    if rois.shape[0] == 0 or len(masks) == 0:
        return rois.new_zeros((0, *size))
    # boxes clipped to the image, as mask_target_single does
    boxes = torch.stack([
        rois[:, 0].clamp(0, masks.width), rois[:, 1].clamp(0, masks.height),
        rois[:, 2].clamp(0, masks.width), rois[:, 3].clamp(0, masks.height)
    ], 1)
    # [n, 5]: the batch index of each RoI is its ground truth mask
    batch_rois = torch.cat([gt_inds.to(boxes)[:, None], boxes], 1)
    # [G, 1, H, W]
    gt = torch.from_numpy(masks.masks).to(rois.device, rois.dtype)[:, None]
    # [n, 1, M, M] -> [n, M, M]
    targets = roi_align(gt, batch_rois, size, 1.0, 0, 'avg', True).squeeze(1)
    return (targets >= 0.5).float() if binarize else targets


@MODELS.register_module()
class PluginFCNMaskHead(FCNMaskHead):
    """``FCNMaskHead`` whose training targets come from
    :func:`bitmap_mask_targets` when the ground truth masks are bitmaps
    (mmdet's ``mask_target`` otherwise); the same targets, parameters and
    predictions."""

    def get_targets(self, sampling_results: List[SamplingResult],
                    batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigType) -> Tensor:
        masks = [res.masks for res in batch_gt_instances]
        if not all(isinstance(m, BitmapMasks) for m in masks):
            return super().get_targets(sampling_results, batch_gt_instances,
                                       rcnn_train_cfg)
        binarize = not rcnn_train_cfg.get('soft_mask_target', False)
        # [sum of n, M, M]
        return torch.cat([
            bitmap_mask_targets(res.pos_priors, res.pos_assigned_gt_inds, m,
                                rcnn_train_cfg.mask_size, binarize)
            for res, m in zip(sampling_results, masks)
        ])
