"""A small, deterministic COCO-format instance-segmentation dataset.

The quickstart (``make demo``) and the train/test smoke tests cannot
download COCO, so they generate this one instead. It is laid out like
``data/coco/`` so the same configs, ``CocoDataset`` and ``CocoMetric`` read
it::

    root/train2017/000000000001.jpg ...
    root/val2017/000000100001.jpg ...
    root/annotations/instances_train2017.json
    root/annotations/instances_val2017.json

Each image holds 2-6 filled shapes (circle, triangle, square, star) in
random colours, sizes and orientations on a cluttered background (a colour
gradient, blurred blobs and thin lines that are not objects, pixel noise).
Object areas are drawn log-uniformly so that COCO's absolute area buckets
(small < 32^2, medium < 96^2, large, in pixels) all occur at the default
256 x 256 image size. A new object may hide at most ``MAX_OCCLUSION`` of
an earlier one and never cut a hole in it. Every annotation describes the
*visible* part, exactly: shapes are painted with pycocotools' own polygon
rasterisation; an unoccluded object's polygon is the drawn one, an
occluded object's polygons are traced from its visible pixels so that they
decode to exactly those pixels; ``area`` and ``bbox`` are computed by
pycocotools from the polygons, so they agree with what a ``CocoDataset``
decodes. ``iscrowd`` is always 0.

Generation is fully determined by ``seed`` (and the split): the same call
writes byte-identical files.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

CLASSES: Tuple[str, ...] = ('circle', 'triangle', 'square', 'star')
# Object area in pixels, drawn log-uniformly: about 45% small, 40% medium
# and 15% large in COCO's buckets (32^2, 96^2).
MIN_AREA, MAX_AREA = 80, 20000
# Area of each shape with circumradius 1.
_UNIT_AREA = dict(
    circle=np.pi,
    triangle=3 * np.sqrt(3) / 4,
    square=2.0,
    star=5 * np.sin(np.pi / 5) * 0.45)
MAX_OCCLUSION = 0.25  # the most of an object's area a later one may cover
NOISE_STD = 7.0
JPEG_QUALITY = 92
# Image ids of the val split start here, so the two splits never share one.
VAL_ID_OFFSET = 100000


def _shape_polygon(cls: str, cx: float, cy: float, r: float,
                   angle: float) -> np.ndarray:
    """Vertices of one shape of circumradius ``r``, as [K, 2] (x, y)."""
    if cls == 'circle':
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = np.full_like(t, r)
    elif cls == 'triangle':
        t = angle + np.arange(3) * 2 * np.pi / 3
        radii = np.full_like(t, r)
    elif cls == 'square':
        t = angle + np.pi / 4 + np.arange(4) * np.pi / 2
        radii = np.full_like(t, r)
    elif cls == 'star':
        t = angle + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    else:
        raise ValueError(f'unknown shape class {cls!r}')
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], 1)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A cluttered RGB background: gradient, blobs and lines."""
    c0, c1 = rng.uniform(40, 215, (2, 3))
    ramp = np.linspace(0, 1, w)[None, :, None] if rng.random() < 0.5 \
        else np.linspace(0, 1, h)[:, None, None]
    img = c0 + (c1 - c0) * ramp + np.zeros((h, w, 3))
    img = img.astype(np.uint8)
    # Soft blobs: blurred ellipses, low contrast, not objects.
    # Drawn and blurred at a quarter of the resolution, then upsampled.
    blobs = np.zeros((h // 4, w // 4, 3), np.uint8)
    for _ in range(int(rng.integers(3, 8))):
        center = (int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4)))
        axes = (int(rng.integers(2, w // 16 + 3)),
                int(rng.integers(2, h // 16 + 3)))
        color = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.ellipse(blobs, center, axes, float(rng.uniform(0, 180)), 0, 360,
                    color, -1)
    blobs = cv2.resize(
        cv2.GaussianBlur(blobs, (0, 0), 2), (w, h),
        interpolation=cv2.INTER_LINEAR)
    img = cv2.addWeighted(img, 0.65, blobs, 0.35, 0)
    # Thin random lines (open strokes, not closed shapes).
    for _ in range(int(rng.integers(3, 9))):
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        color = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.line(img, p0, p1, color, int(rng.integers(1, 3)), cv2.LINE_AA)
    return img


def _object_color(rng: np.random.Generator,
                  under: np.ndarray) -> Tuple[int, int, int]:
    """A colour that stands out (>= 80 in L1/3) from the pixels below."""
    mean = under.reshape(-1, 3).mean(0)
    for _ in range(20):
        color = rng.integers(0, 256, 3)
        if np.abs(color - mean).mean() >= 80:
            break
    else:
        color = np.where(mean > 127, 20, 235)
    return tuple(int(v) for v in color)


def _rasterize(poly: np.ndarray, h: int, w: int) -> np.ndarray:
    """Pixels inside a polygon, by pycocotools' own rule (bool [H, W])."""
    rle = mask_utils.frPyObjects([poly.reshape(-1).tolist()], h, w)
    return mask_utils.decode(rle)[..., 0].astype(bool)


def _has_hole(mask: np.ndarray) -> bool:
    """Whether a binary mask encloses background (COCO polygons cannot)."""
    _, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return hierarchy is not None and bool((hierarchy[0, :, 3] >= 0).any())


def _visible_polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (flat x, y lists) whose decoding is exactly ``mask``.

    The contours are traced on a 4x nearest-upsampled copy and mapped back
    with a half-pixel shift: pycocotools then decodes them to the same
    pixels (plain contours through the boundary pixels' centres would lose
    about one pixel around each object).
    """
    up = cv2.resize(mask, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(up, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = []
    for c in contours:
        if len(c) < 3:
            continue
        polys.append([round((float(v) + 0.5) / 4, 3) for v in c.reshape(-1)])
    return polys


def _make_image(rng: np.random.Generator, image_size: Tuple[int, int],
                max_objects: int) -> Tuple[np.ndarray, List[Dict]]:
    """Draw one image; return it (RGB) and its objects' visible parts."""
    h, w = image_size
    img = _background(rng, h, w)
    # owner[y, x] = 1 + index of the object visible at that pixel, or 0.
    owner = np.zeros((h, w), np.int32)
    objects: List[Dict] = []
    num = int(rng.integers(2, max_objects + 1))
    max_r = 0.35 * min(h, w)
    for _ in range(num):
        for _try in range(30):
            cls_idx = int(rng.integers(len(CLASSES)))
            area = np.exp(rng.uniform(np.log(MIN_AREA), np.log(MAX_AREA)))
            r = min(np.sqrt(area / _UNIT_AREA[CLASSES[cls_idx]]), max_r)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            poly = _shape_polygon(CLASSES[cls_idx], cx, cy, r,
                                  float(rng.uniform(0, 2 * np.pi)))
            new = _rasterize(poly, h, w)
            # Limited occlusion: the new shape may hide at most
            # MAX_OCCLUSION of each earlier object's visible pixels and must
            # not punch a hole in one.
            hidden = np.bincount(owner[new], minlength=len(objects) + 1)
            ok = True
            for i in np.nonzero(hidden[1:])[0]:
                obj = objects[i]
                ok = hidden[i + 1] <= MAX_OCCLUSION * obj['visible'] and \
                    not _has_hole((owner == i + 1) & ~new)
                if not ok:
                    break
            if ok:
                break
        else:
            continue
        for i in np.nonzero(hidden[1:])[0]:
            objects[i]['visible'] -= int(hidden[i + 1])
        color = _object_color(rng, img[new])
        shade = rng.normal(0, 5, (int(new.sum()), 3))
        img[new] = np.clip(np.array(color) + shade, 0, 255).astype(np.uint8)
        owner[new] = len(objects) + 1
        objects.append(
            dict(
                category_id=cls_idx + 1,
                poly=poly,
                full=int(new.sum()),
                visible=int(new.sum())))
    # Pixel noise over everything, as a camera would add.
    noise = rng.standard_normal(img.shape, dtype=np.float32) * NOISE_STD
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    results = []
    for i, obj in enumerate(objects):
        if obj['visible'] == obj['full']:
            # Unoccluded: the drawn polygon itself, exact by construction.
            polys = [[round(float(v), 3) for v in obj['poly'].reshape(-1)]]
        else:
            polys = _visible_polygons((owner == i + 1).astype(np.uint8))
        rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
        area = float(mask_utils.area(rle))
        bbox = [round(float(v), 2) for v in mask_utils.toBbox(rle)]
        results.append(
            dict(
                category_id=obj['category_id'],
                segmentation=polys,
                area=area,
                bbox=bbox,
                iscrowd=0))
    return img, results


def _write_split(root: str, split: str, num_images: int,
                 image_size: Tuple[int, int], seed: int, id_offset: int,
                 max_objects: int) -> None:
    """Write one split's JPEGs and its COCO annotation file."""
    img_dir = osp.join(root, f'{split}2017')
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    # One independent, reproducible stream per split.
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
    images, annotations = [], []
    ann_id = id_offset
    h, w = image_size
    for k in range(num_images):
        img_id = id_offset + k + 1
        file_name = f'{img_id:012d}.jpg'
        img, objs = _make_image(rng, image_size, max_objects)
        cv2.imwrite(
            osp.join(img_dir, file_name), img[..., ::-1],
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        images.append(dict(id=img_id, file_name=file_name, height=h, width=w))
        for obj in objs:
            ann_id += 1
            annotations.append(dict(id=ann_id, image_id=img_id, **obj))
    coco = dict(
        info=dict(
            description='gcnet_plugin synthetic shapes',
            version='1.0',
            year=2024,
            seed=seed),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(CLASSES)
        ])
    with open(osp.join(ann_dir, f'instances_{split}2017.json'), 'w') as f:
        json.dump(coco, f)


def make_synthetic_coco(root: str,
                        num_train: int,
                        num_val: int,
                        image_size: Tuple[int, int] = (256, 256),
                        seed: int = 0,
                        max_objects: int = 6) -> None:
    """Write a synthetic COCO-format instance-segmentation dataset.

    Args:
        root (str): Output folder; ``train2017/``, ``val2017/`` and
            ``annotations/`` are created in it (existing files are
            overwritten).
        num_train (int): Number of training images.
        num_val (int): Number of held-out validation images (drawn from an
            independent random stream, so no image is shared).
        image_size (tuple[int, int]): ``(H, W)`` of every image. Default:
            ``(256, 256)``, at which COCO's small/medium/large buckets all
            occur.
        seed (int): Random seed; the output depends on nothing else.
            Default: 0.
        max_objects (int): Most objects per image (at least 2 are tried).
            Default: 6.
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0, got '
                         f'{num_train} and {num_val}')
    if min(image_size) < 32:
        raise ValueError(f'image_size {image_size} is too small; both sides '
                         'must be >= 32')
    image_size = (int(image_size[0]), int(image_size[1]))
    _write_split(root, 'train', num_train, image_size, seed, 0, max_objects)
    _write_split(root, 'val', num_val, image_size, seed, VAL_ID_OFFSET,
                 max_objects)


def area_buckets(ann_file: str) -> Dict[str, int]:
    """Count a COCO annotation file's objects per COCO area bucket.

    Args:
        ann_file (str): Path to an ``instances_*.json`` file.

    Returns:
        dict[str, int]: Counts for ``'small'`` (area < 32^2), ``'medium'``
        and ``'large'`` (area >= 96^2).
    """
    with open(ann_file) as f:
        anns = json.load(f)['annotations']
    areas = np.array([a['area'] for a in anns], dtype=np.float64)
    return dict(
        small=int((areas < 32**2).sum()),
        medium=int(((areas >= 32**2) & (areas < 96**2)).sum()),
        large=int((areas >= 96**2).sum()))
