"""The quickstart config: the paper's GC Mask R-CNN, scaled, on our data."""
import json

import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

from gcnet_plugin.data.synthetic_coco import CLASSES

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')
PAPER = 'configs/gcnet/mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py'


def test_inherits_the_paper_config_and_changes_only_the_scale(load_config):
    cfg = load_config(QUICKSTART)
    paper = load_config(PAPER)
    # Same family: Mask R-CNN + FPN, GC r16 after conv3 in c3-c5.
    assert cfg.model.type == paper.model.type == 'MaskRCNN'
    assert cfg.model.backbone.type == paper.model.backbone.type
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.plugins == paper.model.backbone.plugins
    assert cfg.model.backbone.plugins[0]['cfg']['type'] == 'ContextBlock'
    assert tuple(cfg.model.backbone.plugins[0]['stages']) == (False, True,
                                                              True, True)
    # Scaled to learn from scratch on a CPU.
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.backbone.init_cfg is None  # no pretrained download
    assert cfg.model.backbone.frozen_stages == -1
    width = cfg.model.backbone.base_channels
    assert cfg.model.neck.in_channels == [4 * width * 2**i for i in range(4)]


def test_classes_match_the_generated_data(load_config, quickstart_data):
    cfg = load_config(QUICKSTART)
    for split in ('train', 'val'):
        ann_file = quickstart_data / f'annotations/instances_{split}2017.json'
        categories = json.loads(ann_file.read_text())['categories']
        assert [c['name'] for c in categories] == list(CLASSES)
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader'].dataset
        assert ds.data_root == 'data/quickstart/'
        assert tuple(ds.metainfo.classes) == CLASSES
    assert cfg.model.roi_head.bbox_head.num_classes == len(CLASSES)
    assert cfg.model.roi_head.mask_head.num_classes == len(CLASSES)
    assert cfg.test_evaluator.ann_file.startswith('data/quickstart/')
    assert set(cfg.test_evaluator.metric) == {'bbox', 'segm'}


def test_mask_head_on_the_box_features_predicts_the_target_size(load_config):
    """The mask head takes the box head's RoI features (no RoIAlign of its
    own): its masks must have the size of the training targets."""
    cfg = load_config(QUICKSTART)
    init_default_scope('mmdet')
    roi_head = MODELS.build(
        dict(
            cfg.model.roi_head,
            train_cfg=cfg.model.train_cfg.rcnn,
            test_cfg=cfg.model.test_cfg.rcnn))
    assert roi_head.share_roi_extractor
    assert roi_head.mask_head.class_agnostic
    extractor = cfg.model.roi_head.bbox_roi_extractor
    size = extractor.roi_layer.output_size
    feats = torch.zeros(3, extractor.out_channels, size, size)
    masks = roi_head.mask_head(feats)
    mask_size = cfg.model.train_cfg.rcnn.mask_size
    # One class-agnostic mask of the target size per RoI.
    assert masks.shape == (3, 1, mask_size, mask_size)
