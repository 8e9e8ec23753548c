"""Ground truth and predictions drawn side by side with DetLocalVisualizer.
"""
import os.path as osp

import cv2
import numpy as np
import torch
from mmdet.structures.mask import encode_mask_results
from mmengine.config import Config
from pycocotools.coco import COCO

from gcnet_plugin.analysis.prediction_plot import (class_labels,
                                                   plot_predictions)
from gcnet_plugin.data.synthetic_coco import make_synthetic_coco


def test_predictions_drawn_with_det_visualizer(tmp_path):
    root = str(tmp_path / 'data')
    make_synthetic_coco(root, 0, 3, image_size=(64, 64), seed=0)
    ann_file = osp.join(root, 'annotations', 'instances_val2017.json')
    coco = COCO(ann_file)
    results = []
    for img_id in coco.getImgIds():  # the ground truth as "predictions"
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id]))
        boxes = torch.tensor([a['bbox'] for a in anns])
        boxes[:, 2:] += boxes[:, :2]
        masks = np.stack([coco.annToMask(a) for a in anns]).astype(bool)
        info = coco.loadImgs(img_id)[0]
        results.append(
            dict(
                img_id=img_id,
                img_path=osp.join(root, 'val2017', info['file_name']),
                ori_shape=(64, 64),
                pred_instances=dict(
                    bboxes=boxes,
                    scores=torch.full((len(anns), ), 0.9),
                    labels=torch.tensor([a['category_id'] - 1 for a in anns]),
                    masks=encode_mask_results(masks))))
    cfg = Config(dict(test_evaluator=dict(ann_file=ann_file)))
    out = str(tmp_path / 'pred.png')
    ids = plot_predictions(cfg, results, out, num=2, scale=2.0)
    assert ids == sorted(coco.getImgIds())[:2]
    drawn = cv2.imread(out)
    assert drawn.shape == (2 * 128, 2 * 128, 3)  # 2 rows of GT | pred
    first = cv2.resize(
        cv2.imread(results[0]['img_path']),
        None,
        fx=2,
        fy=2,
        interpolation=cv2.INTER_LINEAR).astype(int)
    pred_half = drawn[:128, 128:].astype(int)
    assert np.abs(pred_half - first).mean() > 3  # boxes/masks drawn
    # Above every score nothing is drawn: the right half is the image.
    plot_predictions(cfg, results, out, num=1, score_thr=0.95)
    plain = cv2.imread(out)[:, 128:].astype(int)
    assert np.abs(plain - first).mean() < 1.5  # PNG of a JPEG, no drawing


def test_ground_truth_labels_follow_the_config_classes(tmp_path):
    """Label i is the config's ``metainfo.classes[i]`` (as mmdet's
    CocoDataset numbers them), else the annotation file's order."""
    root = str(tmp_path / 'data')
    make_synthetic_coco(root, 0, 1, image_size=(64, 64), seed=0)
    ann_file = osp.join(root, 'annotations', 'instances_val2017.json')
    coco = COCO(ann_file)
    cats = coco.loadCats(coco.getCatIds())
    names = [c['name'] for c in cats]
    plain = Config(dict(test_evaluator=dict(ann_file=ann_file)))
    assert class_labels(plain, coco) == (tuple(names), {
        c['id']: i
        for i, c in enumerate(cats)
    })
    reverse = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(metainfo=dict(classes=names[::-1])))))
    classes, label_of = class_labels(reverse, coco)
    assert classes == tuple(names[::-1])
    assert label_of == {c['id']: len(cats) - 1 - i for i, c in enumerate(cats)}
