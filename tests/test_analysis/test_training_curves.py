"""Loss curve and validation AP curves drawn from logged points."""
import cv2
import numpy as np
import pytest

from gcnet_plugin.analysis.training_curves import (plot_ap_curves,
                                                   plot_loss_curve,
                                                   trailing_mean)
from gcnet_plugin.analysis.work_dir_results import RunResult


def test_trailing_mean():
    np.testing.assert_allclose(
        trailing_mean(np.array([1., 3., 5., 7.]), 2), [1., 2., 4., 6.])
    np.testing.assert_allclose(
        trailing_mean(np.array([2., 4., 9.]), 5), [2., 3., 5.])


def test_loss_curve_is_drawn(tmp_path):
    rows = [
        dict(
            lr=1e-3,
            loss=2.0 / (i + 1),
            loss_cls=1.0 / (i + 1),
            loss_mask=1.0 / (i + 1),
            step=10 * (i + 1)) for i in range(30)
    ]
    out = str(tmp_path / 'loss.png')
    plot_loss_curve(rows, out)
    img = cv2.imread(out)
    assert img is not None and img.shape[0] > 200 and img.std() > 10
    with pytest.raises(ValueError, match='no training losses'):
        plot_loss_curve([], out)


def test_ap_curves_skip_runs_without_validations(tmp_path):
    curve = [(1, {
        'coco/bbox_mAP': 0.1,
        'coco/segm_mAP': 0.08
    }), (2, {
        'coco/bbox_mAP': 0.2
    })]
    runs = [
        RunResult('a', 'a', curve=curve),
        RunResult('b', 'b'),
        RunResult('c', 'c', curve=curve[:1])
    ]
    out = tmp_path / 'ap.png'
    assert plot_ap_curves(runs, str(out)) == 2
    assert cv2.imread(str(out)).std() > 10
    assert plot_ap_curves([], str(tmp_path / 'none.png')) == 0
