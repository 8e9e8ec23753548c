"""The quickstart's picture/table tools: loss curve, predictions, AP table.
"""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures.mask import encode_mask_results
from mmengine.config import Config
from pycocotools.coco import COCO

from gcnet_plugin.data.synthetic_coco import make_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(name: str):
    path = osp.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loss_curve(tmp_path):
    tool = _tool('plot_loss_curve')
    run = tmp_path / '20240101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [
        dict(
            lr=1e-3,
            loss=2.0 / (i + 1),
            loss_cls=1.0 / (i + 1),
            loss_mask=1.0 / (i + 1),
            step=10 * (i + 1)) for i in range(30)
    ]
    rows.insert(10, {'coco/bbox_mAP': 0.1, 'step': 1})  # a val point
    with open(run / 'scalars.json', 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)
    # A later run without training losses (e.g. a test run) is skipped.
    later = tmp_path / '20240102_000000' / 'vis_data'
    later.mkdir(parents=True)
    (later / 'scalars.json').write_text('{"coco/bbox_mAP": 0.2, "step": 0}')
    path = tool.find_scalars(str(tmp_path))
    assert path == str(run / 'scalars.json')
    loaded = tool.load_train_scalars(path)
    assert [r['step'] for r in loaded] == list(range(10, 310, 10))
    out = str(tmp_path / 'loss.png')
    tool.plot_loss_curve(loaded, out)
    img = cv2.imread(out)
    assert img is not None and img.shape[0] > 200 and img.std() > 10
    with pytest.raises(FileNotFoundError, match='tools/train.py'):
        tool.find_scalars(str(tmp_path / 'nothing'))


def test_smooth_is_a_trailing_mean():
    smooth = _tool('plot_loss_curve')._smooth
    np.testing.assert_allclose(
        smooth(np.array([1., 3., 5., 7.]), 2), [1., 2., 4., 6.])


def test_ap_table(tmp_path):
    tool = _tool('coco_ap_table')
    run = tmp_path / '20240101_000000'
    run.mkdir()
    metrics = {
        'coco/bbox_mAP': 0.612,
        'coco/bbox_mAP_50': 0.9,
        'coco/segm_mAP': 0.55,
        'coco/segm_mAP_l': 0.7
    }
    (run / '20240101_000000.json').write_text(json.dumps(metrics) + '\n')
    path = tool.find_metrics(str(tmp_path))
    table = tool.format_table(tool.load_metrics(path)).splitlines()
    assert table[0].split() == [
        'type', 'mAP', 'AP50', 'AP75', 'APs', 'APm', 'APl'
    ]
    assert table[2].split()[:3] == ['bbox', '0.612', '0.900']
    assert table[3].split()[0] == 'segm' and table[3].split()[-1] == '0.700'


def test_predictions_drawn_with_det_visualizer(tmp_path):
    tool = _tool('plot_predictions')
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
    ids = tool.plot_predictions(cfg, results, out, num=2, scale=2.0)
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
    tool.plot_predictions(cfg, results, out, num=1, score_thr=0.95)
    plain = cv2.imread(out)[:, 128:].astype(int)
    assert np.abs(plain - first).mean() < 1.5  # PNG of a JPEG, no drawing
