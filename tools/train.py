# Copyright (c) OpenMMLab. All rights reserved.
"""Train a model: MMDetection 3.3's ``tools/train.py`` with the plugin,
for MMPretrain (ImageNet) and MMAction2 (Kinetics) configs too.

Same command line as MMDetection's, plus ``--data-root DIR``, ``--smoke N``
and ``--debug``. The config's ``default_scope`` picks the toolbox
(``mmdet`` without one; see :mod:`gcnet_plugin.cli.toolbox`). The work is
done by :mod:`gcnet_plugin.cli`:

- ``import gcnet_plugin`` registers the blocks/backbones and installs the
  torch >= 2.6 checkpoint fix (``--resume`` and ``load_from`` read through
  a restricted unpickler; see :mod:`gcnet_plugin.compat`);
- ``--cfg-options`` keys that match nothing the config uses are refused
  with the closest keys; ``--data-root`` points every dataset and
  evaluator at DIR; the data is checked before the Runner is built;
- a configuration or data error is one message without a traceback
  (``--debug`` shows it) and exit status 2;
- the effective batch and the lr are logged at the start, with a warning
  when the batch is not the one the config's lr is set for;
- without CUDA, ``--launcher pytorch|slurm|mpi`` runs CPU processes over
  gloo, and a SyncBN model is refused there with the ``--cfg-options``
  that switch it to BN (see :mod:`gcnet_plugin.compat.cpu_dist`).
"""
import argparse

from mmdet.utils import setup_cache_size_limit_of_dynamo

import gcnet_plugin  # noqa: F401  (registers modules, installs fixes)
from gcnet_plugin.cli import (add_common_arguments, apply_batch_plan,
                              build_runner, finish_arguments, load_config,
                              prepare_train_cfg, user_errors)
from gcnet_plugin.compat import close_dist
from gcnet_plugin.engine import setup_training


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a detector, classifier or action recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the effective batch (processes x images per '
        'process x accumulative_counts) / auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--smoke',
        type=int,
        metavar='N',
        help='smoke run: train one epoch on the first N images of each '
        'dataset, evaluate, save the checkpoint')
    add_common_arguments(parser)
    return finish_arguments(parser.parse_args())


def main() -> None:
    args = parse_args()
    # Reduce the number of repeated compilations and improve
    # training speed.
    setup_cache_size_limit_of_dynamo()
    with user_errors('tools/train.py', debug=args.debug):
        cfg = load_config(args.config, args.cfg_options, args.launcher,
                          args.work_dir, args.data_root)
        prepare_train_cfg(cfg, args.amp, args.auto_scale_lr, args.resume,
                          args.smoke)
        setup_training(cfg)  # exact resume, clean stops, safe checkpoints
        runner = build_runner(cfg)
        apply_batch_plan(runner, cfg, args.auto_scale_lr)
        runner.train()
        close_dist()  # before exit: see its docstring


if __name__ == '__main__':
    main()
