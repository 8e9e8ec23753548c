"""Curves of work_dirs: training losses per iteration, validation AP per
epoch.

Inputs come from :mod:`gcnet_plugin.analysis.work_dir_results`: the
training lines of ``scalars.json`` (``train_points``) and the validations
of each run (``RunResult.curve``).
"""
from typing import Dict, List, Sequence

import numpy as np

from .work_dir_results import RunResult, pick_metric

LOSS_KEYS = ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
             'loss_mask')


def trailing_mean(y: np.ndarray, k: int) -> np.ndarray:
    """Trailing mean over up to ``k`` points (fewer at the start).

    Shape:
        y: ``[T]``; returns ``[T]``.
    """
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
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

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
            steps,
            trailing_mean(y, smooth),
            color=color,
            linewidth=width,
            label=key)
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


def plot_ap_curves(runs: Sequence[RunResult], out_file: str) -> int:
    """Validation box and mask AP (percent) per epoch, one line per run.

    Returns:
        int: Number of runs drawn (runs without validations are skipped).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    drawn = 0
    for run in runs:
        if not run.curve:
            continue
        drawn += 1
        epochs = [epoch for epoch, _ in run.curve]
        for ax, key in zip(axes, ('bbox_mAP', 'segm_mAP')):
            values = [pick_metric(m, key) for _, m in run.curve]
            points = [(e, 100 * v) for e, v in zip(epochs, values)
                      if v is not None]
            if points:
                ax.plot(*zip(*points), marker='o', label=run.name)
    for ax, title in zip(axes, ('box AP', 'mask AP')):
        ax.set_xlabel('epoch')
        ax.set_ylabel(f'{title} (%)')
        ax.set_title(f'validation {title}')
        ax.grid(alpha=0.3)
    if drawn:
        axes[0].legend(fontsize='small')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return drawn
