"""``tools/train.py``'s options applied to a config.

As MMDetection 3.3's ``tools/train.py`` (``--amp``, ``--auto-scale-lr``,
``--resume``), plus ``--smoke N`` (see :mod:`.smoke`). The lr scaling
itself, with gradient accumulation counted, is :mod:`.batch`'s.
"""
from typing import Optional

from mmengine.config import Config

from .config import check_checkpoint_arg
from .errors import ConfigError
from .smoke import smoke_cfg

__all__ = ['prepare_train_cfg']


def prepare_train_cfg(cfg: Config,
                      amp: bool = False,
                      auto_scale_lr: bool = False,
                      resume: Optional[str] = None,
                      smoke: Optional[int] = None) -> None:
    """Apply ``tools/train.py``'s options to a config, in place.

    Args:
        cfg (Config): From :func:`~gcnet_plugin.cli.config.load_config`.
        amp (bool): ``--amp``: mixed precision (``AmpOptimWrapper``).
        auto_scale_lr (bool): ``--auto-scale-lr``.
        resume (str, optional): ``--resume``: ``'auto'`` (the work
            directory's latest checkpoint) or a checkpoint.
        smoke (int, optional): ``--smoke N``.

    Raises:
        ConfigError: ``--auto-scale-lr`` for a config without
            ``auto_scale_lr.base_batch_size``, or a ``--resume`` file
            that does not exist.
        IncompleteCheckpointError: A ``--resume`` file cut short.
    """
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if auto_scale_lr:
        if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
            raise ConfigError(
                '--auto-scale-lr: the config has no '
                'auto_scale_lr.base_batch_size (the total batch its lr is '
                'set for). Add it, e.g. --cfg-options '
                '+auto_scale_lr.base_batch_size=16.')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        check_checkpoint_arg(resume, '--resume')
        cfg.resume = True
        cfg.load_from = resume
    if smoke is not None:
        smoke_cfg(cfg, smoke)
