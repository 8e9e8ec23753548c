"""Image <-> feature geometry with resize and bottom/right padding."""
import numpy as np
import pytest
import torch

from gcnet_plugin.analysis.feature_geometry import (feature_to_image,
                                                    image_to_feature,
                                                    valid_feature_size)

# original 60x100 (h x w) image, resized x2 to 120x200, padded to 128x224,
# stride-16 feature map 8x14
ORI, IMG, BATCH, FEAT, SCALE = (60, 100), (120, 200), (128, 224), (8,
                                                                   14), (2.0,
                                                                         2.0)


def test_valid_feature_size():
    # ceil(120 / 16) = 8 rows, ceil(200 / 16) = 13 columns
    assert valid_feature_size(FEAT, BATCH, IMG) == (8, 13)
    assert valid_feature_size((4, 4), (64, 64), (64, 64)) == (4, 4)
    assert valid_feature_size((4, 4), (64, 64), (1, 1)) == (1, 1)


def test_image_to_feature():
    cells = image_to_feature([(0, 0), (99, 59), (40, 20), (7.9, 3.9)], SCALE,
                             BATCH, FEAT, IMG)
    # (99, 59) -> resized centre (199, 119) -> (119 // 16, 199 // 16)
    # (40, 20) -> (81, 41) -> (2, 5); (7.9, 3.9) -> (16.8, 8.8) -> (0, 1)
    assert cells == [(0, 0), (7, 12), (2, 5), (0, 1)]
    # anisotropic scale (w_scale 1, h_scale 4)
    assert image_to_feature([(31, 3)], (1.0, 4.0), (32, 32), (2, 2),
                            (32, 32)) == [(0, 1)]
    # points beyond the image are clamped into the valid cells
    assert image_to_feature([(500, 500)], SCALE, BATCH, FEAT, IMG) == [(7, 12)]


def test_feature_to_image_cuts_padding():
    # valid 8x13 cells hold 1, the padding-only column 13 holds 100
    feat = torch.ones(FEAT)
    feat[:, 13] = 100
    out = feature_to_image(feat, BATCH, IMG, ORI)
    assert out.shape == ORI and out.dtype == np.float32
    # left part is exactly 1; values near the right edge rise (bilinear
    # blending with the padding cell) but the padding itself is cut off
    assert np.allclose(out[:, :80], 1)
    assert out.max() < 100


def test_feature_to_image_orientation():
    feat = torch.zeros(FEAT)
    feat[0, 0] = 1  # top-left cell
    out = feature_to_image(feat, BATCH, IMG, ORI)
    y, x = np.unravel_index(out.argmax(), out.shape)
    # cell (0, 0) covers input pixels 0..15 -> original pixels 0..7
    assert y < 8 and x < 8
    with pytest.raises(Exception):
        feature_to_image(torch.zeros(3), BATCH, IMG, ORI)
