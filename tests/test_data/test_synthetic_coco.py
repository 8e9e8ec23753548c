"""The synthetic COCO generator: deterministic, valid COCO, exact masks."""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from gcnet_plugin.data.synthetic_coco import (CLASSES, VAL_ID_OFFSET,
                                              _visible_polygons, area_buckets,
                                              make_synthetic_coco)

SIZE = (256, 256)


def _digest(root: str) -> str:
    """One hash over every file's relative path and bytes."""
    h = hashlib.sha1()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(dirpath, name)
            h.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synth'))
    make_synthetic_coco(root, 24, 8, image_size=SIZE, seed=0)
    return root


def _load(root: str, split: str) -> dict:
    with open(osp.join(root, 'annotations',
                       f'instances_{split}2017.json')) as f:
        return json.load(f)


def test_layout_and_real_jpegs(dataset):
    for split, n in (('train', 24), ('val', 8)):
        data = _load(dataset, split)
        assert len(data['images']) == n
        for img in data['images']:
            path = osp.join(dataset, f'{split}2017', img['file_name'])
            with open(path, 'rb') as f:
                assert f.read(3) == b'\xff\xd8\xff'  # JPEG magic
            assert cv2.imread(path).shape == (*SIZE, 3)
            assert (img['height'], img['width']) == SIZE


def test_deterministic(dataset, tmp_path):
    again = str(tmp_path / 'again')
    make_synthetic_coco(again, 24, 8, image_size=SIZE, seed=0)
    assert _digest(again) == _digest(dataset)
    other = str(tmp_path / 'other')
    make_synthetic_coco(other, 24, 8, image_size=SIZE, seed=1)
    assert _digest(other) != _digest(dataset)


def test_val_is_held_out(dataset):
    train = {i['id'] for i in _load(dataset, 'train')['images']}
    val = {i['id'] for i in _load(dataset, 'val')['images']}
    assert not train & val
    assert min(val) > VAL_ID_OFFSET


@pytest.mark.parametrize('split', ['train', 'val'])
def test_pycocotools_reads_valid_annotations(dataset, split):
    coco = COCO(
        osp.join(dataset, 'annotations', f'instances_{split}2017.json'))
    assert [c['name']
            for c in coco.loadCats(coco.getCatIds())] == list(CLASSES)
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) >= 2 * len(coco.getImgIds())
    assert len({a['id'] for a in anns}) == len(anns)
    for ann in anns:
        assert ann['iscrowd'] == 0
        assert ann['category_id'] in coco.getCatIds()
        assert all(
            len(p) >= 6 and len(p) % 2 == 0 for p in ann['segmentation'])
        img = coco.loadImgs(ann['image_id'])[0]
        rle = coco.annToRLE(ann)
        # area and bbox are those of the decoded polygons.
        assert ann['area'] == pytest.approx(float(mask_utils.area(rle)))
        np.testing.assert_allclose(
            ann['bbox'], mask_utils.toBbox(rle), atol=0.01)
        x, y, w, h = ann['bbox']
        assert 0 <= x and x + w <= img['width'] and w > 0
        assert 0 <= y and y + h <= img['height'] and h > 0


def test_all_coco_area_buckets_occur(dataset):
    counts = area_buckets(
        osp.join(dataset, 'annotations', 'instances_train2017.json'))
    assert counts['small'] > 0 and counts['medium'] > 0
    assert counts['large'] > 0
    # Small objects must not dominate so much that the others are rare.
    total = sum(counts.values())
    assert counts['medium'] + counts['large'] > 0.3 * total


def test_all_classes_occur(dataset):
    cats = {a['category_id'] for a in _load(dataset, 'train')['annotations']}
    assert cats == set(range(1, len(CLASSES) + 1))


def test_masks_cover_the_drawn_objects(dataset):
    """Inside a mask the JPEG is one flat colour, unlike just outside it."""
    data = _load(dataset, 'train')
    files = {i['id']: i['file_name'] for i in data['images']}
    contrasts, spreads = [], []
    for ann in data['annotations']:
        if ann['area'] < 300:
            continue
        img = cv2.imread(
            osp.join(dataset, 'train2017',
                     files[ann['image_id']])).astype(np.float32)
        rle = mask_utils.merge(
            mask_utils.frPyObjects(ann['segmentation'], *SIZE))
        mask = mask_utils.decode(rle).astype(np.uint8)
        kernel = np.ones((3, 3), np.uint8)
        inner = cv2.erode(mask, kernel).astype(bool)
        ring = (cv2.dilate(mask, kernel, iterations=2) - mask).astype(bool)
        inside = img[inner]
        spreads.append(inside.std(0).mean())
        contrasts.append(np.abs(inside.mean(0) - img[ring].mean(0)).mean())
    assert len(spreads) >= 20
    # Object noise (std 5 + 7) and JPEG: a flat colour inside (a mask
    # shifted by 2 px gives ~14) ...
    assert np.median(spreads) < 10
    # ... that stands out from the pixels around it (~90; shifted ~70).
    assert np.median(contrasts) > 75


def test_visible_polygons_decode_exactly():
    rng = np.random.default_rng(0)
    for _ in range(5):
        mask = np.zeros((64, 80), np.uint8)
        for _ in range(3):
            x, y = rng.integers(5, 60, 2)
            cv2.circle(mask, (int(x), int(y)), int(rng.integers(2, 12)), 1, -1)
        polys = _visible_polygons(mask)
        dec = mask_utils.decode(
            mask_utils.merge(mask_utils.frPyObjects(polys, 64, 80)))
        np.testing.assert_array_equal(dec, mask)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_train'):
        make_synthetic_coco(str(tmp_path), -1, 1)
    with pytest.raises(ValueError, match='too small'):
        make_synthetic_coco(str(tmp_path), 1, 1, image_size=(16, 16))
