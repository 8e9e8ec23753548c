"""The quickstart (``make demo``) in one process: data, train, test, pictures.

``tools/quickstart.sh`` runs it. It does, one after the other, what
``tools/misc/make_quickstart_data.py``, ``tools/train.py``,
``tools/test.py`` and ``tools/analysis_tools/{plot_loss_curve,
plot_predictions,coco_ap_table}.py`` do, with the same package calls, but
imports torch and MMDetection once instead of six times (seconds each on
2 cores: docs/quickstart.md):

1. generate ``DATA_ROOT`` unless its val annotation file (written last)
   is there;
2. train the config into ``--work-dir`` unless its final checkpoint
   ``epoch_<max_epochs>.pth`` is there (``--force`` retrains);
3. evaluate that checkpoint on the val split into ``<work-dir>/test``,
   dumping the predictions to ``<work-dir>/results.pkl``;
4. write ``loss_curve.png`` and ``predictions.png``, print the AP table
   and where the outputs are.

Each step starts with a line ``==> [demo Ns] ...`` (seconds since
``--start``, a Unix time; default: when this started).

Example::

    python tools/misc/quickstart.py --force
"""
import argparse
import gc
import glob
import os
import os.path as osp
import time

import mmengine
from mmdet.utils import setup_cache_size_limit_of_dynamo
from mmengine.config import Config

import gcnet_plugin  # noqa: F401  (registers modules, installs fixes)
from gcnet_plugin.analysis.coco_ap_table import format_ap_table
from gcnet_plugin.analysis.prediction_plot import plot_predictions
from gcnet_plugin.analysis.training_curves import plot_loss_curve
from gcnet_plugin.analysis.work_dir_results import (find_test_metrics,
                                                    find_train_scalars,
                                                    read_scalars,
                                                    read_test_metrics,
                                                    train_points)
from gcnet_plugin.cli import (apply_batch_plan, build_runner,
                              finish_test_runner, load_config,
                              prepare_test_cfg, prepare_train_cfg, user_errors)
from gcnet_plugin.cli.stack_check import stack_versions
from gcnet_plugin.data.synthetic_coco import area_buckets, make_synthetic_coco
from gcnet_plugin.engine import setup_testing, setup_training

CONFIG = ('configs/quickstart/'
          'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')
DATA_ROOT = 'data/quickstart/'
PROG = 'tools/misc/quickstart.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument(
        '--data-root',
        default=DATA_ROOT,
        help='the data: generated there if missing, trained and tested on '
        '(as --data-root of tools/train.py)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='retrain even if the final checkpoint exists')
    parser.add_argument(
        '--start',
        type=float,
        default=time.time(),
        help='Unix time the step lines count from (default: now)')
    return parser.parse_args()


def say(start: float, message: str) -> None:
    print(f'==> [demo {int(time.time() - start)}s] {message}', flush=True)


def make_data(start: float, root: str) -> None:
    """Step 1: ``make_quickstart_data.py --root ROOT`` (its defaults)."""
    if osp.isfile(osp.join(root, 'annotations/instances_val2017.json')):
        say(start, f'data: reusing {root}')
        return
    say(start, f'data: generating {root}')
    t0 = time.time()
    make_synthetic_coco(root, 400, 50, (256, 256), 0)
    print(f'Wrote 400 train and 50 val images of 256x256 to {root} in '
          f'{time.time() - t0:.1f} s')
    for split in ('train', 'val'):
        ann = osp.join(root, 'annotations', f'instances_{split}2017.json')
        counts = ', '.join(f'{k} {v}' for k, v in area_buckets(ann).items())
        print(f'  {ann}: objects by COCO area: {counts}')


def train(args: argparse.Namespace) -> str:
    """Step 2: ``tools/train.py CONFIG --work-dir WORK_DIR``, unless the
    final checkpoint exists; returns the final checkpoint."""
    cfg = load_config(
        args.config, work_dir=args.work_dir, data_root=args.data_root)
    max_epochs = cfg.train_cfg.max_epochs
    ckpt = osp.join(args.work_dir, f'epoch_{max_epochs}.pth')
    if not args.force and osp.isfile(ckpt):
        say(args.start, f'train: reusing {ckpt} (FORCE=1 retrains)')
        return ckpt
    say(
        args.start, f'train: {args.config} for {max_epochs} epochs -> '
        f'{args.work_dir}/')
    for stale in (ckpt, osp.join(args.work_dir, 'last_checkpoint')):
        if osp.isfile(stale):
            os.remove(stale)
    prepare_train_cfg(cfg)
    setup_training(cfg)
    runner = build_runner(cfg)
    apply_batch_plan(runner, cfg, False)
    runner.train()
    # The training dataloader's persistent worker goes with the runner.
    del runner
    gc.collect()
    return ckpt


def test(args: argparse.Namespace, ckpt: str, out: str) -> Config:
    """Step 3: ``tools/test.py CONFIG CKPT --work-dir WORK_DIR/test --out
    OUT``; returns the test config."""
    say(args.start, f'test: {ckpt} on the val split')
    work_dir = osp.join(args.work_dir, 'test')
    cfg = load_config(args.config, work_dir=work_dir, data_root=args.data_root)
    cfg = prepare_test_cfg(cfg, ckpt, out)
    setup_testing(cfg)
    runner = build_runner(cfg)
    finish_test_runner(runner, ckpt, out=out)
    runner.test()
    return cfg


def pictures(args: argparse.Namespace, out: str, cfg: Config) -> None:
    """Step 4: the loss curve, a few val images, the AP table."""
    say(args.start, 'plots')
    scalars = find_train_scalars(args.work_dir)
    rows = train_points(read_scalars(scalars))
    loss_png = osp.join(args.work_dir, 'loss_curve.png')
    plot_loss_curve(rows, loss_png)
    print(f'Wrote {loss_png} ({len(rows)} points from {scalars}); last loss '
          f'{rows[-1]["loss"]:.4f} at iteration {rows[-1]["step"]}')
    pred_png = osp.join(args.work_dir, 'predictions.png')
    ids = plot_predictions(cfg, mmengine.load(out), pred_png, 4, 0.5, 2.0)
    print(f'Wrote {pred_png}: images {ids} (left: ground truth, right: '
          'predictions with score >= 0.5)')
    metrics = find_test_metrics(cfg.work_dir)
    print(f'\nCOCO AP on the {args.data_root.rstrip("/")} val split:')
    print(format_ap_table(read_test_metrics(metrics)))
    print(f'(from {metrics})')


def main() -> None:
    args = parse_args()
    say(args.start, f'stack: {stack_versions()}')
    setup_cache_size_limit_of_dynamo()
    make_data(args.start, args.data_root)
    out = osp.join(args.work_dir, 'results.pkl')
    with user_errors(PROG, debug=False):
        ckpt = train(args)
        test_cfg = test(args, ckpt, out)
    pictures(args, out, test_cfg)
    logs = sorted(
        glob.glob(osp.join(args.work_dir, '*', '*.log')), key=osp.getmtime)
    train_log = logs[-1] if logs else f'{args.work_dir}/<timestamp>/*.log'
    print(f'''
Outputs ({int(time.time() - args.start)} s in all):
  checkpoint        {ckpt}
  training log      {train_log}
  loss curve        {args.work_dir}/loss_curve.png
  predictions       {args.work_dir}/predictions.png (left: ground truth)
  val predictions   {out}
  test log/metrics  {test_cfg.work_dir}/<timestamp>/''')


if __name__ == '__main__':
    main()
