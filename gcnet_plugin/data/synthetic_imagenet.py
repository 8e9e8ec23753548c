"""A small, deterministic ImageNet-format classification dataset.

The classification smoke runs (``tools/train.py`` / ``tools/test.py`` on
an mmpretrain config, tests included) cannot download ImageNet, so they
generate this one. It is laid out as mmpretrain's ``ImageNet`` and
``CustomDataset`` read ImageNet: one folder per class in each split, and
the annotation lists mmpretrain's ImageNet preparation writes
(``meta/<split>.txt``: ``<class>/<file> <label>`` per line)::

    root/train/circle/circle_00000.jpg ...
    root/val/circle/circle_00000.jpg ...
    root/meta/train.txt    "circle/circle_00000.jpg 0" per line
    root/meta/val.txt

so a config may read either layout (``split='train'`` finds
``meta/train.txt``; without it, the class folders).

Each image (64 x 64 by default) shows one filled shape of its class
(:data:`CLASSES`) in a random colour, size, position and orientation on
a cluttered background (a colour gradient, thin lines that are not
shapes, pixel noise). The classes differ in outline only, so a small CNN
learns them from a few hundred images; colour, size and place carry no
label. Images are JPEGs, as ImageNet's.

Generation is fully determined by ``seed``: every image has its own
random stream keyed by (seed, split, class, index), so the same call
writes byte-identical files and a larger dataset starts with the images
of a smaller one.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

CLASSES: Tuple[str, ...] = ('circle', 'ring', 'triangle', 'square', 'pentagon',
                            'star', 'cross', 'crescent', 'semicircle', 'arrow')
SPLITS = ('train', 'val')
NOISE_STD = 6.0
JPEG_QUALITY = 92
MIN_SIZE = 32  # smallest image side a shape of radius >= 8 fits in


def _regular(n: int, star: bool = False) -> Callable[[float], np.ndarray]:
    """Unit-circumradius polygon (``star``: alternate radius 0.45)."""

    def points(angle: float) -> np.ndarray:
        k = 2 * n if star else n
        t = angle + np.arange(k) * 2 * np.pi / k
        r = np.where(np.arange(k) % 2 == 0, 1.0, 0.45) if star else 1.0
        return np.stack([r * np.cos(t), r * np.sin(t)], 1)

    return points


def _rotated(xy: List[Tuple[float, float]]) -> Callable[[float], np.ndarray]:
    """A fixed outline (unit scale), turned by ``angle``."""
    base = np.array(xy, np.float64)

    def points(angle: float) -> np.ndarray:
        c, s = np.cos(angle), np.sin(angle)
        return base @ np.array([[c, s], [-s, c]])

    return points


_CROSS = [(-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3),
          (0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3),
          (-0.3, -0.3)]
_ARROW = [(-1, -0.25), (0.2, -0.25), (0.2, -0.7), (1, 0), (0.2, 0.7),
          (0.2, 0.25), (-1, 0.25)]
_SEMICIRCLE = [(np.cos(t), np.sin(t) - 0.4) for t in np.linspace(0, np.pi, 24)]
# Outlines drawn as polygons; 'circle', 'ring' and 'crescent' are drawn
# from circles in _draw_shape.
_POLYGONS: Dict[str, Callable[[float], np.ndarray]] = dict(
    triangle=_regular(3),
    square=_regular(4),
    pentagon=_regular(5),
    star=_regular(5, star=True),
    cross=_rotated(_CROSS),
    semicircle=_rotated(_SEMICIRCLE),
    arrow=_rotated(_ARROW))


def _draw_shape(cls: str, mask: np.ndarray, cx: float, cy: float, r: float,
                angle: float) -> None:
    """Fill the pixels of one shape of radius ``r`` into ``mask`` (uint8
    [H, W], 255 inside)."""
    center = (int(round(cx)), int(round(cy)))
    if cls in ('circle', 'ring', 'crescent'):
        cv2.circle(mask, center, int(round(r)), 255, -1, cv2.LINE_AA)
        if cls == 'ring':
            cv2.circle(mask, center, int(round(0.55 * r)), 0, -1, cv2.LINE_AA)
        elif cls == 'crescent':
            off = (int(round(cx + 0.5 * r * np.cos(angle))),
                   int(round(cy + 0.5 * r * np.sin(angle))))
            cv2.circle(mask, off, int(round(0.85 * r)), 0, -1, cv2.LINE_AA)
        return
    if cls not in _POLYGONS:
        raise ValueError(f'unknown shape class {cls!r}')
    pts = _POLYGONS[cls](angle) * r + np.array([cx, cy])
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA,
                 4)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A gradient with thin random lines (RGB uint8 [H, W, 3])."""
    c0, c1 = rng.uniform(30, 225, (2, 3))
    ramp = np.linspace(0, 1, w)[None, :, None] if rng.random() < 0.5 \
        else np.linspace(0, 1, h)[:, None, None]
    img = (c0 + (c1 - c0) * ramp + np.zeros((h, w, 3))).astype(np.uint8)
    for _ in range(int(rng.integers(1, 5))):
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.line(img, p0, p1, color, 1, cv2.LINE_AA)
    return img


def make_image(cls: str, rng: np.random.Generator,
               image_size: Tuple[int, int]) -> np.ndarray:
    """Draw one image of class ``cls``.

    Args:
        cls (str): One of :data:`CLASSES`.
        rng (Generator): The image's random stream.
        image_size (tuple[int, int]): ``(H, W)``.

    Returns:
        np.ndarray: The RGB image, uint8 [H, W, 3].
    """
    h, w = image_size
    img = _background(rng, h, w)
    r = rng.uniform(0.22, 0.4) * min(h, w)
    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
    mask = np.zeros((h, w), np.uint8)
    _draw_shape(cls, mask, cx, cy, r, float(rng.uniform(0, 2 * np.pi)))
    alpha = (mask.astype(np.float32) / 255)[..., None]
    under = img[mask > 127].reshape(-1, 3).mean(0)
    color = rng.integers(0, 256, 3)
    for _ in range(20):  # a colour that stands out from the pixels below
        if np.abs(color - under).mean() >= 70:
            break
        color = rng.integers(0, 256, 3)
    img = img * (1 - alpha) + color * alpha
    img = img + rng.standard_normal(img.shape) * NOISE_STD
    return np.clip(img, 0, 255).astype(np.uint8)


def _file_name(cls: str, index: int) -> str:
    return f'{cls}/{cls}_{index:05d}.jpg'


def make_synthetic_imagenet(root: str,
                            num_train: int,
                            num_val: int,
                            image_size: Tuple[int, int] = (64, 64),
                            seed: int = 0) -> Dict[str, int]:
    """Write a synthetic ImageNet-format dataset of :data:`CLASSES`.

    Args:
        root (str): Output folder; ``train/``, ``val/`` and ``meta/`` are
            created in it (existing files are overwritten).
        num_train (int): Training images per class.
        num_val (int): Validation images per class (their own random
            streams: no image is shared with training).
        image_size (tuple[int, int]): ``(H, W)`` of every image, both at
            least 32. Default: ``(64, 64)``.
        seed (int): Random seed; the output depends on nothing else.

    Returns:
        dict[str, int]: Images written per split.

    Raises:
        ValueError: A negative count or an image side below 32.
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0, got '
                         f'{num_train} and {num_val}')
    if min(image_size) < MIN_SIZE:
        raise ValueError(f'image_size {tuple(image_size)} is too small; both '
                         f'sides must be >= {MIN_SIZE}')
    size = (int(image_size[0]), int(image_size[1]))
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    written = {}
    counts = dict(train=num_train, val=num_val)
    for split_id, split in enumerate(SPLITS):
        lines = []
        for label, cls in enumerate(CLASSES):
            os.makedirs(osp.join(root, split, cls), exist_ok=True)
            for index in range(counts[split]):
                rng = np.random.default_rng([seed, split_id, label, index])
                name = _file_name(cls, index)
                cv2.imwrite(
                    osp.join(root, split, name),
                    make_image(cls, rng, size)[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                lines.append(f'{name} {label}\n')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(lines)
        written[split] = len(lines)
    return written
