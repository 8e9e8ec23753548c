"""What ``tools/train.py`` and ``tools/test.py`` share: their common
arguments, reading the config with the command line applied, checking a
checkpoint argument, and building the Runner.

Both tools take ``CONFIG``, ``--work-dir``, ``--cfg-options`` (checked, see
:mod:`.cfg_options`), ``--data-root`` (see :mod:`.data_root`),
``--launcher`` and ``--debug`` (see :mod:`.errors`).
"""
import argparse
import difflib
import glob
import logging
import os
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from ..compat import setup_cpu_dist
from ..data.checks import check_data_cfg, ignored_data_root
from ..engine.checkpoint_files import check_checkpoint_complete
from .cfg_options import check_cfg_options, split_forced
from .data_root import set_data_root
from .errors import ConfigError, launcher_rank
from .toolbox import apply_toolbox_defaults, scope_registry_module, toolbox_of

__all__ = [
    'add_common_arguments', 'build_runner', 'check_checkpoint_arg',
    'finish_arguments', 'load_config'
]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments both tools take after their positional ones.

    Args:
        parser (ArgumentParser): The tool's parser.
    """
    parser.add_argument(
        '--work-dir', help='the folder for logs, checkpoints and metrics')
    parser.add_argument(
        '--data-root',
        metavar='DIR',
        help='read the data from DIR: sets the data_root of every dataset '
        'of the config (wrappers included) and moves the evaluators\' '
        'ann_file below DIR')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config: key=value pairs, e.g. '
        'train_cfg.max_epochs=1 or key="[a,b]" for a list. A key must '
        'exist in the config or be an argument of the object its parent '
        'builds; +key=value sets any key.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of configuration and data errors (also '
        'GCNET_DEBUG=1)')
    # torch.distributed.launch passes --local-rank (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def finish_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Export ``LOCAL_RANK`` as MMDetection's tools do.

    Args:
        args (Namespace): The parsed arguments.

    Returns:
        Namespace: ``args``.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _missing_config(path: str) -> ConfigError:
    folder = osp.dirname(path) or '.'
    if osp.isdir(folder):
        names = glob.glob(osp.join(folder, '*.py'))
    else:
        names = glob.glob(osp.join('configs', '**', '*.py'), recursive=True)
    by_name = {osp.basename(n): n for n in sorted(names)}
    close = difflib.get_close_matches(osp.basename(path), list(by_name), 3)
    hint = ('Did you mean ' + ' or '.join(by_name[c] for c in close) +
            '?' if close else 'The configs are under configs/ (see '
            'configs/paper_index.yml).')
    return ConfigError(f'{path}: config file not found.\n{hint}')


URL_SCHEMES = ('http://', 'https://', 'torchvision://', 'open-mmlab://',
               'mmcls://', 'pavi://', 's3://')


def check_checkpoint_arg(checkpoint: str, what: str = 'CHECKPOINT') -> None:
    """Refuse a local checkpoint that is missing or was cut short.

    Args:
        checkpoint (str): A file or a URL (not checked).
        what (str): The argument, for the message.

    Raises:
        ConfigError: It is neither a URL nor an existing file.
        IncompleteCheckpointError: A truncated or damaged file (see
            :func:`~gcnet_plugin.engine.check_checkpoint_complete`).
    """
    if checkpoint.startswith(URL_SCHEMES):
        return
    if not osp.isfile(checkpoint):
        raise ConfigError(f'{what} {checkpoint}: checkpoint file not found. '
                          'Pass a .pth file or an http(s):// URL.')
    check_checkpoint_complete(checkpoint)


def load_config(path: str,
                cfg_options: Optional[Dict[str, Any]] = None,
                launcher: str = 'none',
                work_dir: Optional[str] = None,
                data_root: Optional[str] = None) -> Config:
    """Read a config and apply the tools' common arguments.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): ``--cfg-options``, checked by
            :func:`check_cfg_options` before they are merged.
        launcher (str): ``--launcher``. Defaults to ``'none'``.
        work_dir (str, optional): ``--work-dir``; without it the config's
            ``work_dir``, else ``work_dirs/<config name>``.
        data_root (str, optional): ``--data-root``, see
            :func:`set_data_root`.

    Returns:
        Config: The config to build the Runner from, with its toolbox's
        defaults (see :func:`~.toolbox.apply_toolbox_defaults`).

    Raises:
        ConfigError: The file does not exist, or a ``--cfg-options`` key
            matches nothing.
    """
    if not osp.isfile(path):
        raise _missing_config(path)
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        options, forced = split_forced(cfg_options)
        check_cfg_options(cfg, options, forced, filename=path)
        cfg.merge_from_dict(options)
    apply_toolbox_defaults(cfg)
    if data_root is not None:
        set_data_root(cfg, data_root)
    else:
        note = ignored_data_root(cfg)
        if note is not None and launcher_rank() == 0:
            print_log(note, logger='current', level=logging.WARNING)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Check the data, prepare a CPU distributed run, build the Runner.

    Args:
        cfg (Config): The config from :func:`load_config`.

    Returns:
        Runner: mmengine's Runner, or the ``runner_type`` registered in
        the config's toolbox (its ``default_scope``).

    Raises:
        DataCheckError: The data is missing or broken.
        SyncBNError: A SyncBN model in a distributed run without CUDA.
    """
    check_data_cfg(cfg)
    # Without CUDA: gloo process group and a CPU-capable DDP wrapper.
    setup_cpu_dist(cfg)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    registry = scope_registry_module(toolbox_of(cfg))
    if registry is None:
        from mmengine import registry
    return registry.RUNNERS.build(cfg)
