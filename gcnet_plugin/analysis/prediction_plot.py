"""Ground truth next to predictions for a few images, one PNG.

Draws with MMDetection's ``DetLocalVisualizer`` what ``tools/test.py
--out results.pkl`` dumped (left: ground truth of the config's test
annotation file, right: predictions above a score threshold) and stacks
the images top to bottom.
"""
import os.path as osp
import warnings
from typing import Dict, List, Tuple

import cv2
import mmcv
import mmengine
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer
from mmengine.config import Config
from mmengine.structures import InstanceData
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

# Distinct colours for the first classes (RGB).
PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75), (255, 160, 0),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (128, 128, 0)]


def _gt_instances(coco: COCO, img_id: int, label_of: Dict[int, int],
                  scale: float) -> InstanceData:
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id], iscrowd=False))
    info = coco.loadImgs(img_id)[0]
    h, w = info['height'], info['width']
    boxes = np.array([a['bbox'] for a in anns], np.float32).reshape(-1, 4)
    boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
    masks = [_resize_mask(coco.annToMask(a), scale) for a in anns]
    gt = InstanceData()
    gt.bboxes = torch.from_numpy(boxes * scale)
    gt.labels = torch.tensor([label_of[a['category_id']] for a in anns],
                             dtype=torch.long)
    gt.masks = np.stack(masks) if masks else np.zeros(
        (0, round(h * scale), round(w * scale)), bool)
    return gt


def _resize_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    return cv2.resize(
        mask.astype(np.uint8),
        None,
        fx=scale,
        fy=scale,
        interpolation=cv2.INTER_NEAREST).astype(bool)


def _pred_instances(result: Dict, scale: float) -> InstanceData:
    pred = result['pred_instances']
    out = InstanceData()
    out.bboxes = torch.as_tensor(pred['bboxes']).float() * scale
    out.scores = torch.as_tensor(pred['scores']).float()
    out.labels = torch.as_tensor(pred['labels']).long()
    masks = pred.get('masks', [])
    if isinstance(masks, list):  # RLEs, as DumpDetResults writes them
        masks = [_resize_mask(mask_utils.decode(m), scale) for m in masks]
        h, w = result['ori_shape']
        out.masks = np.stack(masks) if masks else np.zeros(
            (0, round(h * scale), round(w * scale)), bool)
    else:
        out.masks = np.stack(
            [_resize_mask(m, scale)
             for m in np.asarray(masks)]) if len(masks) else np.asarray(masks)
    return out


def class_labels(cfg: Config, coco: COCO) -> Tuple[tuple, Dict[int, int]]:
    """The class names and {COCO category id: label} of a config's model.

    Label i is the config's ``metainfo.classes[i]``, as mmdet's CocoDataset
    numbers them; without ``metainfo.classes``, the annotation file's
    categories in order.
    """
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    classes = dataset.get('metainfo', {}).get('classes')
    if classes:
        cat_ids = [coco.getCatIds(catNms=[name])[0] for name in classes]
    else:
        cat_ids = coco.getCatIds()
        classes = [c['name'] for c in coco.loadCats(cat_ids)]
    return tuple(classes), {cat_id: i for i, cat_id in enumerate(cat_ids)}


def plot_predictions(cfg: Config,
                     results: List[Dict],
                     out_file: str,
                     num: int = 4,
                     score_thr: float = 0.5,
                     scale: float = 2.0) -> List[int]:
    """Draw ``num`` images (lowest image ids first) into one PNG.

    Args:
        cfg (Config): The config the predictions were made with (its
            ``test_evaluator.ann_file`` and ``metainfo.classes``).
        results (list[dict]): What ``tools/test.py --out`` dumped.
        out_file (str): PNG to write.
        num (int): Number of images. Default: 4.
        score_thr (float): Smallest score of a drawn prediction.
            Default: 0.5.
        scale (float): Upscaling before drawing, so labels stay readable
            on small images. Default: 2.0.

    Returns:
        list[int]: The image ids drawn, top to bottom.
    """
    coco = COCO(cfg.test_evaluator.ann_file)
    classes, label_of = class_labels(cfg, coco)
    visualizer = DetLocalVisualizer(
        name=f'plot_predictions_{osp.abspath(out_file)}')
    visualizer.dataset_meta = dict(
        classes=classes,
        palette=[PALETTE[i % len(PALETTE)] for i in range(len(classes))])
    rows, ids = [], []
    for result in sorted(results, key=lambda r: r['img_id'])[:num]:
        image = mmcv.imread(result['img_path'], channel_order='rgb')
        image = cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        sample = DetDataSample()
        sample.gt_instances = _gt_instances(coco, result['img_id'], label_of,
                                            scale)
        sample.pred_instances = _pred_instances(result, scale)
        with warnings.catch_warnings():
            # mmengine calls boxes that touch the border "out of bounds".
            warnings.filterwarnings('ignore', '.*out of bounds')
            visualizer.add_datasample(
                str(result['img_id']),
                image,
                sample,
                draw_gt=True,
                draw_pred=True,
                show=False,
                pred_score_thr=score_thr)
        rows.append(visualizer.get_image())
        ids.append(result['img_id'])
    if not rows:
        raise ValueError('no predictions to draw')
    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
    width = max(row.shape[1] for row in rows)  # images may differ in width
    rows = [mmcv.impad(row, shape=(row.shape[0], width)) for row in rows]
    mmcv.imwrite(np.concatenate(rows, axis=0)[..., ::-1], out_file)
    return ids
