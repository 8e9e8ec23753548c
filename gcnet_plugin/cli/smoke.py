"""``--smoke N``: run a config end to end on its first N images.

Before a long training, one short run shows that the data loads, the
model trains and evaluates and the checkpoint is written. :func:`smoke_cfg`
makes any config do that on N images: each dataset keeps its first N
images (mmengine's ``indices``; wrappers included), training lasts one
epoch (or N iterations of an iteration-based loop) and is evaluated at
its end, the log shows every iteration and one checkpoint is kept. A
COCO evaluator still reads the whole annotation file: the AP it prints
counts the images that were left out as missed, so it says nothing about
the model (a classifier's accuracy counts the N images only).
"""
from mmengine.config import Config

from ..data.dataset_cfgs import SPLITS, split_datasets
from .errors import ConfigError

__all__ = ['smoke_cfg']


def smoke_cfg(cfg: Config, num_images: int) -> None:
    """Make ``cfg`` train and evaluate on ``num_images`` images.

    Args:
        cfg (Config): A full config; changed in place.
        num_images (int): Images per dataset (``indices``).

    Raises:
        ConfigError: ``num_images`` is not positive.
    """
    if num_images < 1:
        raise ConfigError(f'--smoke needs a positive number, not {num_images}')
    for split in SPLITS:
        for _, ds in split_datasets(cfg, split):
            ds['indices'] = num_images
    train_cfg = cfg.get('train_cfg')
    interval = 1
    if train_cfg is not None:
        if 'max_iters' in train_cfg:
            interval = num_images
            train_cfg['max_iters'] = num_images
        else:
            train_cfg['max_epochs'] = 1
        train_cfg['val_interval'] = interval
        train_cfg['val_begin'] = interval
    hooks = cfg.get('default_hooks') or {}
    if 'logger' in hooks:
        hooks['logger']['interval'] = 1
    if 'checkpoint' in hooks:
        hooks['checkpoint']['interval'] = interval
        hooks['checkpoint']['max_keep_ckpts'] = 1
