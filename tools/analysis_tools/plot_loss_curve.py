"""Plot the training loss curve of an MMEngine work dir as a PNG.

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (written by
``LocalVisBackend`` during ``tools/train.py``; the newest run with training
losses is used) and draws the total loss and its parts against the
iteration, raw and smoothed, with the learning rate below.

Example::

    python tools/analysis_tools/plot_loss_curve.py work_dirs/quickstart \\
        --out work_dirs/quickstart/loss_curve.png
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LOSS_KEYS = ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
             'loss_mask')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot training losses')
    parser.add_argument(
        'src', help='a work dir, or the path of a scalars.json')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--smooth',
        type=int,
        default=5,
        help='moving-average window in logged points')
    return parser.parse_args()


def find_scalars(src: str) -> str:
    """The newest ``scalars.json`` under a work dir that has train losses."""
    if osp.isfile(src):
        return src
    candidates = sorted(
        glob.glob(osp.join(src, '*', 'vis_data', 'scalars.json')),
        reverse=True)
    for path in candidates:  # newest timestamp first
        with open(path) as f:
            if any('"loss"' in line for line in f):
                return path
    raise FileNotFoundError(
        f'no */vis_data/scalars.json with training losses under {src}; '
        'run tools/train.py first')


def load_train_scalars(path: str) -> List[Dict]:
    """The logged training points (those with a ``loss``), in order."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if 'loss' in r]


def _smooth(y: np.ndarray, k: int) -> np.ndarray:
    """Trailing mean over up to ``k`` points (fewer at the start)."""
    csum = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - k, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_loss_curve(rows: List[Dict], out_file: str, smooth: int = 5) -> None:
    """Draw losses (log scale) and the learning rate against iterations.

    Args:
        rows (list[dict]): Logged training points with ``step``, ``loss``
            and optionally the other ``LOSS_KEYS`` and ``lr``.
        out_file (str): PNG to write.
        smooth (int): Moving-average window. Default: 5.
    """
    if not rows:
        raise ValueError('no training losses to plot')
    steps = np.array([r['step'] for r in rows])
    fig, (ax, ax_lr) = plt.subplots(
        2,
        1,
        figsize=(8, 6),
        sharex=True,
        gridspec_kw=dict(height_ratios=[3, 1]))
    for i, key in enumerate(k for k in LOSS_KEYS if k in rows[0]):
        y = np.array([r.get(key, np.nan) for r in rows], dtype=float)
        color = f'C{i}'
        width = 2.0 if key == 'loss' else 1.2
        ax.plot(steps, y, color=color, alpha=0.25, linewidth=0.8)
        ax.plot(
            steps, _smooth(y, smooth), color=color, linewidth=width, label=key)
    ax.set_yscale('log')
    ax.set_ylabel('loss (log scale)')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(loc='upper right', fontsize=8)
    ax.set_title(f'Training losses (faint: logged, bold: mean of {smooth})')
    if 'lr' in rows[0]:
        ax_lr.plot(steps, [r['lr'] for r in rows], color='k')
    ax_lr.set_ylabel('lr')
    ax_lr.set_xlabel('iteration')
    ax_lr.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    path = find_scalars(args.src)
    rows = load_train_scalars(path)
    plot_loss_curve(rows, args.out, args.smooth)
    print(f'Wrote {args.out} ({len(rows)} points from {path}); last loss '
          f'{rows[-1]["loss"]:.4f} at iteration {rows[-1]["step"]}')


if __name__ == '__main__':
    main()
