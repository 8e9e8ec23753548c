# Copyright (c) OpenMMLab. All rights reserved.
"""Test (and evaluate) a model: MMDetection 3.3's ``tools/test.py`` with
the plugin, for MMPretrain (ImageNet) and MMAction2 (Kinetics) configs
too.

Same command line as MMDetection's, plus ``--allow-partial``,
``--fuse-conv-bn``, ``--data-root DIR`` and ``--debug``. The config's
``default_scope`` picks the toolbox (``mmdet`` without one); ``--out``,
``--show-dir`` and ``--tta`` act as that toolbox's ``tools/test.py``. The
work is done by :mod:`gcnet_plugin.cli`:

- ``import gcnet_plugin`` registers the blocks/backbones and installs the
  torch >= 2.6 checkpoint fix (a checkpoint whose pickle would run code is
  refused; see :mod:`gcnet_plugin.compat`); ``CHECKPOINT`` may be a file
  or an ``http(s)://`` URL (MMDetection's published checkpoints), read
  the same way;
- a checkpoint that does not fit the config's model (missing, unexpected
  or mis-shaped keys) is refused, naming the keys, before any weight is
  copied, instead of evaluating a half-loaded model; ``--allow-partial``
  turns the refusal into a warning;
- ``--cfg-options`` and ``--data-root`` as in ``tools/train.py``; the
  data is checked before the Runner is built; a configuration or data
  error is one message without a traceback and exit status 2;
- without CUDA, ``--launcher pytorch|slurm|mpi`` runs CPU processes over
  gloo (see :mod:`gcnet_plugin.compat.cpu_dist`);
- dataloader workers die with the process, and the CPU cores are split
  between the machine's training and test processes (see
  :func:`gcnet_plugin.engine.setup_testing`).
"""
import argparse

from mmdet.utils import setup_cache_size_limit_of_dynamo

import gcnet_plugin  # noqa: F401  (registers modules, installs fixes)
from gcnet_plugin.cli import (add_common_arguments, build_runner,
                              finish_arguments, finish_test_runner,
                              load_config, prepare_test_cfg, user_errors)
from gcnet_plugin.compat import close_dist
from gcnet_plugin.engine import setup_testing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a detector, classifier or action '
        'recognizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument('--tta', action='store_true')
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help='evaluate even if the checkpoint does not fit the model '
        '(missing, unexpected or mis-shaped keys); by default such a '
        'checkpoint is refused')
    parser.add_argument(
        '--fuse-conv-bn',
        action='store_true',
        help='fold each BatchNorm into the conv before it (faster test)')
    add_common_arguments(parser)
    return finish_arguments(parser.parse_args())


def main() -> None:
    args = parse_args()
    # Reduce the number of repeated compilations and improve
    # testing speed.
    setup_cache_size_limit_of_dynamo()
    with user_errors('tools/test.py', debug=args.debug):
        cfg = load_config(args.config, args.cfg_options, args.launcher,
                          args.work_dir, args.data_root)
        cfg = prepare_test_cfg(cfg, args.checkpoint, args.out, args.show,
                               args.show_dir, args.wait_time, args.tta)
        setup_testing(cfg)  # orphan-safe workers, CPU threads split
        runner = build_runner(cfg)
        finish_test_runner(runner, args.checkpoint, args.allow_partial,
                           args.out, args.fuse_conv_bn)
        runner.test()
        close_dist()  # before exit: see its docstring


if __name__ == '__main__':
    main()
