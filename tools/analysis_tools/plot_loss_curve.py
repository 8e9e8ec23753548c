"""Plot the training loss curve of an MMEngine work dir as a PNG.

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (the newest launch
with training losses; see :mod:`gcnet_plugin.analysis.work_dir_results`)
and draws the total loss and its parts against the iteration, raw and
smoothed, with the learning rate below.

Example::

    python tools/analysis_tools/plot_loss_curve.py work_dirs/quickstart \\
        --out work_dirs/quickstart/loss_curve.png
"""
import argparse

from gcnet_plugin.analysis.training_curves import plot_loss_curve
from gcnet_plugin.analysis.work_dir_results import (find_train_scalars,
                                                    read_scalars, train_points)


def main() -> None:
    parser = argparse.ArgumentParser(description='Plot training losses')
    parser.add_argument('src', help='a work dir, or a scalars.json')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--smooth', type=int, default=5, help='mean window')
    args = parser.parse_args()
    path = find_train_scalars(args.src)
    rows = train_points(read_scalars(path))
    plot_loss_curve(rows, args.out, args.smooth)
    print(f'Wrote {args.out} ({len(rows)} points from {path}); last loss '
          f'{rows[-1]["loss"]:.4f} at iteration {rows[-1]["step"]}')


if __name__ == '__main__':
    main()
