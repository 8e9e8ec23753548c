"""Attention maps of the tiny model (tests/test_analysis/conftest.py):
query points through resize and padding, a GC block's global map."""
import numpy as np
import pytest
from mmcv import imread

from gcnet_plugin.analysis.attention_maps import (attention_maps, attention_of,
                                                  choose_block, draw,
                                                  image_pipeline,
                                                  random_points)

NL_NAME = 'backbone.layer3.4.nonlocal_block'


def test_query_points_map_to_cells_and_rows(tiny_nl, tiny_detector, tmp_path):
    model = tiny_detector
    assert choose_block(model) == NL_NAME  # non-local blocks first
    image_path = tiny_nl['images'][0]
    image = imread(image_path, channel_order='rgb')
    att, feat_size, meta = attention_of(model, image_pipeline(model.cfg),
                                        NL_NAME, image_path)
    assert feat_size == (8, 10) and tuple(att.shape) == (80, 80)
    # x1.5 resize, stride 16: (10, 20) -> centre (15.75, 30.75) -> (1, 0);
    # (90, 60) -> (135.75, 90.75) -> (5, 8); a point past the border is
    # clamped to the last pixel (99, 71) -> (6, 9): the last valid cell
    maps, points, cells = attention_maps(att, feat_size, meta, (72, 100),
                                         [(10, 20), (90, 60), (500, 500)])
    assert cells == [(1, 0), (5, 8), (6, 9)]
    assert points[2] == (99, 71)
    assert all(m.shape == (72, 100) for m in maps)
    # a query's map is its attention row drawn on the image: the cell
    # with the largest weight is where the map peaks
    row = att[1 * 10 + 0].view(8, 10)[:7]  # valid rows only
    peak = np.unravel_index(np.argmax(maps[0]), maps[0].shape)
    cell = np.unravel_index(int(row.argmax()), (7, 10))
    assert abs(peak[0] / 72 * 7 - cell[0]) <= 1
    assert abs(peak[1] / 100 * 10 - cell[1]) <= 1
    out = tmp_path / 'nl.png'
    draw(image, maps, points, ['a', 'b', 'c'], 0.5, str(out))
    assert out.stat().st_size > 5000


def test_context_block_has_one_global_map(tiny_nl, tiny_detector):
    name = 'backbone.layer4.0.context_block'
    att, feat_size, meta = attention_of(tiny_detector,
                                        image_pipeline(tiny_detector.cfg),
                                        name, tiny_nl['images'][1])
    assert tuple(att.shape) == (feat_size[0] * feat_size[1], )
    maps, points, cells = attention_maps(att, feat_size, meta, (72, 100),
                                         [(1, 1)])
    assert len(maps) == 1 and points == [] and cells == []
    assert maps[0].shape == (72, 100)


def test_choose_block_errors_list_the_blocks(tiny_detector):
    with pytest.raises(ValueError, match='no block named .*layer3.4'):
        choose_block(tiny_detector, 'backbone.nope')


def test_random_points_inside_the_image():
    points = random_points(np.random.default_rng(0), 50, 7, 11)
    assert len(points) == 50
    assert all(0 <= x < 11 and 0 <= y < 7 for x, y in points)
