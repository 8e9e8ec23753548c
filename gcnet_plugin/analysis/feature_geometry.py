"""Map between image pixels and feature-map cells of a detector backbone.

MMDetection's test pipeline resizes the original image by ``scale_factor``
to ``img_shape`` and the data preprocessor pads the batch at the bottom and
right to ``batch_input_shape``. A feature map of size ``(H, W)`` covers the
padded input, so one cell spans ``batch_input_shape / (H, W)`` input pixels
(its stride). These helpers use exactly that geometry: points are picked on
the original image, attention maps are drawn back on it, and the padding
is cut off.

Conventions: shapes are ``(height, width)``; points are ``(x, y)`` in
pixels of the original image, pixel ``(x, y)`` covering
``[x, x + 1) x [y, y + 1)``; ``scale_factor`` is ``(w_scale, h_scale)`` as
in MMDetection 3.x.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

Size = Tuple[int, int]


def valid_feature_size(feat_size: Size, batch_input_shape: Size,
                       img_shape: Size) -> Size:
    """Number of feature rows and columns that overlap the image.

    Args:
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        batch_input_shape (tuple[int, int]): Padded network input size.
        img_shape (tuple[int, int]): Resized image size inside it.

    Returns:
        tuple[int, int]: ``(h, w)`` with ``1 <= h <= H``, ``1 <= w <= W``;
        cells ``[:h, :w]`` see the image, the rest only padding.
    """
    out = []
    for feat, padded, img in zip(feat_size, batch_input_shape, img_shape):
        out.append(min(feat, max(1, math.ceil(img * feat / padded))))
    return out[0], out[1]


def image_to_feature(points: Sequence[Tuple[float, float]],
                     scale_factor: Tuple[float, float],
                     batch_input_shape: Size, feat_size: Size,
                     img_shape: Size) -> List[Tuple[int, int]]:
    """Feature cell ``(row, col)`` that contains each original-image point.

    Args:
        points (Sequence[tuple[float, float]]): ``(x, y)`` pixels of the
            original image.
        scale_factor (tuple[float, float]): ``(w_scale, h_scale)`` of the
            test-time resize.
        batch_input_shape (tuple[int, int]): Padded network input size.
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        img_shape (tuple[int, int]): Resized image size.

    Returns:
        list[tuple[int, int]]: Cells, clamped into the valid region of
        :func:`valid_feature_size`.
    """
    valid_h, valid_w = valid_feature_size(feat_size, batch_input_shape,
                                          img_shape)
    stride_y = batch_input_shape[0] / feat_size[0]
    stride_x = batch_input_shape[1] / feat_size[1]
    cells = []
    for x, y in points:
        # pixel centre in the resized image, then the cell that covers it
        col = math.floor((x + 0.5) * scale_factor[0] / stride_x)
        row = math.floor((y + 0.5) * scale_factor[1] / stride_y)
        cells.append((min(max(row, 0),
                          valid_h - 1), min(max(col, 0), valid_w - 1)))
    return cells


def feature_to_image(feat_map: torch.Tensor, batch_input_shape: Size,
                     img_shape: Size, ori_shape: Size) -> np.ndarray:
    """Upsample a feature-sized map onto the original image.

    The map is bilinearly upsampled to the padded input, the padding is
    cut off, and the rest is resized to the original image size.

    Args:
        feat_map (Tensor): One value per feature cell.
        batch_input_shape (tuple[int, int]): Padded network input size.
        img_shape (tuple[int, int]): Resized image size.
        ori_shape (tuple[int, int]): Original image size.

    Returns:
        np.ndarray: float32 map of the original image size.

    Shape:
        feat_map: ``[H, W]``; returns ``[ori_h, ori_w]``.
    """
    x = feat_map.detach().float().cpu()[None, None]  # [1, 1, H, W]
    x = F.interpolate(
        x, size=tuple(batch_input_shape), mode='bilinear', align_corners=False)
    x = x[..., :img_shape[0], :img_shape[1]]
    x = F.interpolate(
        x, size=tuple(ori_shape), mode='bilinear', align_corners=False)
    return x[0, 0].numpy()
