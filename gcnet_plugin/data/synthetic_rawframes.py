"""A small, deterministic raw-frame video dataset: which way does it move?

The Kinetics smoke run (``configs/kinetics/smoke/``) and its tests cannot
download Kinetics-400, so they generate this one instead. It is laid out as
MMAction2's ``RawframeDataset`` reads Kinetics-400 raw frames (see
docs/kinetics_data.md)::

    root/rawframes_train/<class>/train_00001/img_00001.jpg ...
    root/rawframes_val/<class>/val_00001/img_00001.jpg ...
    root/kinetics400_train_list_rawframes.txt   "<class>/train_00001 16 3"
    root/kinetics400_val_list_rawframes.txt     (one video per line)
    root/label_map.txt                          class names, by label

The file names are Kinetics-400's, so ``--data-root`` points a Kinetics
config at this data.

In each video one filled shape (triangle, square, hexagon or disc) moves in
a straight line at constant speed, across 35-50% of the frame from the
first frame to the last, over a cluttered static background (a
colour gradient, thin lines and 1-2 shapes of the same kinds that stay
still), with fresh pixel noise in every frame. The class is the direction
of motion, one of the eight compass directions (``CLASSES``, label ``k``
moves at ``k * 45`` degrees, counter-clockwise from "right"): one frame
cannot tell it, a clip can. The moving shape stays inside the frame for
the whole video. Labels are balanced within each split.

Horizontal flips swap the classes (``left`` becomes ``right``): a training
pipeline for this data must not flip.

Generation is fully determined by ``seed`` (and the split): the same call
writes byte-identical files.
"""
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np

CLASSES: Tuple[str, ...] = ('right', 'up-right', 'up', 'up-left', 'left',
                            'down-left', 'down', 'down-right')
FILENAME_TMPL = 'img_{:05}.jpg'  # RawframeDataset's default, from 1
# Sides of the shapes; 0 is a disc.
SHAPE_SIDES = (3, 4, 6, 0)
# As fractions of the frame's shorter side: the shapes' circumradius and
# the moving one's path from the first frame to the last (whatever the
# number of frames: the path always fits, 2 * 0.13 + 0.5 < 1).
RADIUS = (0.08, 0.13)
TRAVEL = (0.35, 0.5)
NOISE_STD = 6.0
JPEG_QUALITY = 90
# cv2's sub-pixel drawing: coordinates in 1/16 pixel.
_SHIFT = 4


def annotation_list(root: str, split: str) -> str:
    """The annotation list of ``split`` under ``root``."""
    return osp.join(root, f'kinetics400_{split}_list_rawframes.txt')


def frame_folder(root: str, split: str) -> str:
    """The folder of ``split``'s frame folders under ``root``."""
    return osp.join(root, f'rawframes_{split}')


def _direction(label: int) -> np.ndarray:
    """Unit (dx, dy) in image coordinates (y down) of class ``label``."""
    angle = label * np.pi / 4
    return np.array([np.cos(angle), -np.sin(angle)])


def _shape(sides: int, center: np.ndarray, r: float,
           angle: float) -> np.ndarray:
    """Vertices of a regular polygon (``sides`` 0: a disc), [K, 1, 2]
    int32 in 1/16 pixel."""
    t = angle + np.arange(sides or 32) * 2 * np.pi / (sides or 32)
    pts = center + r * np.stack([np.cos(t), np.sin(t)], 1)
    return np.round(pts * 2**_SHIFT).astype(np.int32)[:, None, :]


def _fill(img: np.ndarray, pts: np.ndarray, color: Tuple[int, ...]) -> None:
    cv2.fillPoly(img, [pts], color, cv2.LINE_AA, _SHIFT)


def _color(rng: np.random.Generator,
           background: np.ndarray) -> Tuple[int, int, int]:
    """A colour that stands out (>= 80 in L1/3) from ``background``."""
    mean = background.reshape(-1, 3).mean(0)
    for _ in range(20):
        color = rng.integers(0, 256, 3)
        if np.abs(color - mean).mean() >= 80:
            break
    else:
        color = np.where(mean > 127, 20, 235)
    return tuple(int(v) for v in color)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A static RGB background: gradient, thin lines, still shapes."""
    c0, c1 = rng.uniform(40, 215, (2, 3))
    ramp = np.linspace(0, 1, w)[None, :, None] if rng.random() < 0.5 \
        else np.linspace(0, 1, h)[:, None, None]
    img = (c0 + (c1 - c0) * ramp + np.zeros((h, w, 3))).astype(np.uint8)
    for _ in range(int(rng.integers(2, 5))):
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.line(img, p0, p1, color, 1, cv2.LINE_AA)
    size = min(h, w)
    for _ in range(int(rng.integers(1, 3))):
        r = size * rng.uniform(*RADIUS)
        center = rng.uniform(r, [w - r, h - r])
        sides = int(rng.choice(SHAPE_SIDES))
        _fill(img, _shape(sides, center, r, rng.uniform(0, np.pi)),
              _color(rng, img))
    return img


def _make_video(rng: np.random.Generator, label: int, num_frames: int,
                frame_size: Tuple[int, int]) -> List[np.ndarray]:
    """Draw one video of class ``label``: ``num_frames`` RGB frames."""
    h, w = frame_size
    size = min(h, w)
    background = _background(rng, h, w)
    r = size * rng.uniform(*RADIUS)
    velocity = size * rng.uniform(*TRAVEL) / (num_frames - 1) * \
        _direction(label)
    # The path's midpoint, drawn so that the whole path stays inside.
    half_path = np.abs(velocity) * (num_frames - 1) / 2
    middle = rng.uniform(r + half_path, np.array([w, h]) - r - half_path)
    sides = int(rng.choice(SHAPE_SIDES))
    angle = rng.uniform(0, np.pi)
    color = _color(rng, background)
    frames = []
    for t in range(num_frames):
        img = background.copy()
        center = middle + velocity * (t - (num_frames - 1) / 2)
        _fill(img, _shape(sides, center, r, angle), color)
        noise = rng.standard_normal(img.shape, dtype=np.float32) * NOISE_STD
        frames.append(np.clip(img + noise, 0, 255).astype(np.uint8))
    return frames


def _write_split(root: str, split: str, num_videos: int, num_frames: int,
                 frame_size: Tuple[int, int], seed: int) -> None:
    """Write one split's frame folders and its annotation list."""
    # One independent, reproducible stream per split.
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
    labels = rng.permutation(np.arange(num_videos) % len(CLASSES))
    lines = []
    for k, label in enumerate(labels):
        video = f'{CLASSES[label]}/{split}_{k + 1:05d}'
        folder = osp.join(frame_folder(root, split), video)
        os.makedirs(folder, exist_ok=True)
        frames = _make_video(rng, int(label), num_frames, frame_size)
        for t, img in enumerate(frames):
            cv2.imwrite(
                osp.join(folder, FILENAME_TMPL.format(t + 1)), img[..., ::-1],
                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        lines.append(f'{video} {num_frames} {label}\n')
    with open(annotation_list(root, split), 'w') as f:
        f.writelines(lines)


def make_synthetic_rawframes(root: str,
                             num_train: int,
                             num_val: int,
                             num_frames: int = 16,
                             frame_size: Tuple[int, int] = (64, 64),
                             seed: int = 0) -> None:
    """Write a synthetic raw-frame action-recognition dataset.

    Args:
        root (str): Output folder; ``rawframes_train/``,
            ``rawframes_val/``, their annotation lists and
            ``label_map.txt`` are created in it (existing files are
            overwritten).
        num_train (int): Number of training videos.
        num_val (int): Number of held-out validation videos (drawn from an
            independent random stream, so no video is shared).
        num_frames (int): Frames per video. Default: 16.
        frame_size (tuple[int, int]): ``(H, W)`` of every frame. Default:
            ``(64, 64)``.
        seed (int): Random seed; the output depends on nothing else.
            Default: 0.

    Raises:
        ValueError: A negative number of videos, fewer than 2 frames or
            frames smaller than 32 x 32.
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0, got '
                         f'{num_train} and {num_val}')
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2 (motion needs two '
                         f'frames), got {num_frames}')
    if min(frame_size) < 32:
        raise ValueError(f'frame_size {tuple(frame_size)} is too small; '
                         'both sides must be >= 32')
    frame_size = (int(frame_size[0]), int(frame_size[1]))
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'label_map.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in CLASSES)
    _write_split(root, 'train', num_train, num_frames, frame_size, seed)
    _write_split(root, 'val', num_val, num_frames, frame_size, seed)
