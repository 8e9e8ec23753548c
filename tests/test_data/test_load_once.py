"""LoadOnce: the loaders' result, read from disk once, copies after."""
import os

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

from gcnet_plugin.data import LoadOnce, make_synthetic_coco

LOADERS = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True)
]


def sample(root: str) -> dict:
    from mmdet.datasets import CocoDataset
    dataset = CocoDataset(
        data_root=root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=[])
    return dataset[0]


def test_same_as_loading_and_read_once(tmp_path):
    init_default_scope('mmdet')
    root = str(tmp_path)
    make_synthetic_coco(root, 2, 1, (64, 64))
    info = sample(root)
    ref = Compose(LOADERS)(dict(info))
    once = LoadOnce(LOADERS)
    first = once(dict(info))
    os.remove(info['img_path'])  # a second read would fail
    second = once(dict(info))
    for out in (first, second):
        assert out.keys() == ref.keys()
        np.testing.assert_array_equal(out['img'], ref['img'])
        np.testing.assert_array_equal(out['gt_masks'].masks,
                                      ref['gt_masks'].masks)
        np.testing.assert_array_equal(out['gt_bboxes'].tensor,
                                      ref['gt_bboxes'].tensor)
    # copies: changing one result leaves the next one as loaded
    second['img'][:] = 0
    second['gt_masks'].masks[:] = 0
    third = once(dict(info))
    np.testing.assert_array_equal(third['img'], ref['img'])
    np.testing.assert_array_equal(third['gt_masks'].masks,
                                  ref['gt_masks'].masks)


def test_random_transforms_are_refused():
    with pytest.raises(ValueError, match='RandomFlip.*after LoadOnce'):
        LoadOnce([dict(type='LoadImageFromFile'), dict(type='RandomFlip')])
