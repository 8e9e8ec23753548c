"""mmdet's RPN head, with its proposals right for a level of one anchor.

mmdet 3.3.0's ``RPNHead._predict_by_feat_single`` flattens a level's
scores with ``torch.squeeze``: a level with a single anchor (one anchor a
position on a 1x1 map, e.g. P6 of a 64-pixel image) becomes a 0-d tensor
and the head fails with ``IndexError: tuple index out of range``.
:class:`PluginRPNHead` is the same head with that one line made
``reshape(-1)`` (and without mmdet's deep copy of ``cfg``, which the
method only reads); everything else is mmdet's code, and every proposal
where mmdet's head works is the same.
"""
from typing import List

import torch
from mmdet.models.dense_heads import RPNHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import cat_boxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

__all__ = ['PluginRPNHead']


@MODELS.register_module()
class PluginRPNHead(RPNHead):
    """``RPNHead`` whose proposals also work for a level with one anchor
    (e.g. ``anchor_generator=dict(ratios=[1.0])`` on small images)."""

    def _predict_by_feat_single(self,
                                cls_score_list: List[Tensor],
                                bbox_pred_list: List[Tensor],
                                score_factor_list: List[Tensor],
                                mlvl_priors: List[Tensor],
                                img_meta: dict,
                                cfg: ConfigDict,
                                rescale: bool = False,
                                with_nms: bool = True) -> InstanceData:
        """mmdet's method (its docstring): each level's scores [A * H * W]
        even for A * H * W = 1."""
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get('nms_pre', -1)
        mlvl_bbox_preds, mlvl_valid_priors, mlvl_scores, level_ids = \
            [], [], [], []
        for level_idx, (cls_score, bbox_pred, priors) in enumerate(
                zip(cls_score_list, bbox_pred_list, mlvl_priors)):
            assert cls_score.size()[-2:] == bbox_pred.size()[-2:]
            reg_dim = self.bbox_coder.encode_size
            # [A * 4, H, W] -> [H * W * A, 4]
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, reg_dim)
            # [A * C, H, W] -> [H * W * A, C]
            cls_score = cls_score.permute(1, 2,
                                          0).reshape(-1, self.cls_out_channels)
            if self.use_sigmoid_cls:
                scores = cls_score.sigmoid()
            else:
                # mmdet's foreground is label 0, background the last
                scores = cls_score.softmax(-1)[:, :-1]
            # [H * W * A] (mmdet: torch.squeeze, 0-d for one anchor)
            scores = scores.reshape(-1)
            if 0 < nms_pre < scores.shape[0]:
                ranked_scores, rank_inds = scores.sort(descending=True)
                topk_inds = rank_inds[:nms_pre]
                scores = ranked_scores[:nms_pre]
                bbox_pred = bbox_pred[topk_inds, :]
                priors = priors[topk_inds]
            mlvl_bbox_preds.append(bbox_pred)
            mlvl_valid_priors.append(priors)
            mlvl_scores.append(scores)
            # the level of each box, for NMS within levels
            level_ids.append(
                scores.new_full((scores.size(0), ),
                                level_idx,
                                dtype=torch.long))
        bbox_pred = torch.cat(mlvl_bbox_preds)
        priors = cat_boxes(mlvl_valid_priors)
        bboxes = self.bbox_coder.decode(
            priors, bbox_pred, max_shape=img_meta['img_shape'])
        results = InstanceData()
        results.bboxes = bboxes
        results.scores = torch.cat(mlvl_scores)
        results.level_ids = torch.cat(level_ids)
        return self._bbox_post_process(
            results=results, cfg=cfg, rescale=rescale, img_meta=img_meta)
