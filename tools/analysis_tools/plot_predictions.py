"""Draw a few val images with ground truth and predicted boxes and masks.

Reads the predictions that ``tools/test.py --out results.pkl`` dumped and
draws them next to the ground truth of the config's test annotation file
(:mod:`gcnet_plugin.analysis.prediction_plot`), one PNG.

Example::

    python tools/analysis_tools/plot_predictions.py \\
        configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py \\
        work_dirs/quickstart/results.pkl \\
        --out work_dirs/quickstart/predictions.png
"""
import argparse

import mmengine
from mmengine.config import Config

from gcnet_plugin.analysis.prediction_plot import plot_predictions


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Plot ground truth and predictions of a few images')
    parser.add_argument('config', help='the config tools/test.py used')
    parser.add_argument('results', help='pickle from tools/test.py --out')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--num', type=int, default=4, help='images to draw')
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--scale', type=float, default=2.0, help='zoom factor')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    results = mmengine.load(args.results)
    ids = plot_predictions(cfg, results, args.out, args.num, args.score_thr,
                           args.scale)
    print(f'Wrote {args.out}: images {ids} (left: ground truth, right: '
          f'predictions with score >= {args.score_thr})')


if __name__ == '__main__':
    main()
