"""``tools/test.py``'s steps: the checkpoint, visualisation, test-time
augmentation, the fit check, dumping predictions and conv-BN fusion.

As the toolbox's own ``tools/test.py`` (the config's ``default_scope``
decides, see :mod:`.toolbox`: MMDetection 3.3, MMPretrain 1.2, MMAction2
1.2), plus: the checkpoint (a local file or an ``http(s)://`` URL, read
by the safe loader of :mod:`gcnet_plugin.compat`) must fit the model
(:class:`~gcnet_plugin.compat.CheckpointFitHook`), and ``--fuse-conv-bn``
folds each BatchNorm into the conv before it for a faster test.
Formatting results without evaluating (COCO test-dev) is the evaluator's
``format_only``, which the ``*-test-dev.py`` configs set.
"""
import warnings
from copy import deepcopy
from types import SimpleNamespace
from typing import Any, Optional

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..compat import CheckpointFitHook
from .config import check_checkpoint_arg
from .errors import ConfigError
from .toolbox import TOOLBOXES, toolbox_of

__all__ = ['FuseConvBNHook', 'prepare_test_cfg', 'finish_test_runner']


class FuseConvBNHook(Hook):
    """Fold every BatchNorm that follows a conv into it before testing.

    Runs in ``before_test``, after the Runner has loaded the checkpoint
    (``after_load_checkpoint`` is too early: the weights are not in the
    model yet). Uses ``mmcv.cnn.fuse_conv_bn``.
    """

    priority = 'LOW'

    def before_test(self, runner) -> None:
        from mmcv.cnn import fuse_conv_bn
        model = runner.model
        while is_model_wrapper(model):
            model = model.module
        fuse_conv_bn(model)


def _det_tta_cfg(cfg: Config) -> Config:
    """MMDetection's ``--tta``: wrap the model in its TTA model."""
    if 'tta_model' not in cfg:
        warnings.warn('Cannot find ``tta_model`` in config, '
                      'we will set it as default.')
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(
                nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
    if 'tta_pipeline' not in cfg:
        warnings.warn('Cannot find ``tta_pipeline`` in config, '
                      'we will set it as default.')
        test_data_cfg = cfg.test_dataloader.dataset
        while 'dataset' in test_data_cfg:
            test_data_cfg = test_data_cfg['dataset']
        cfg.tta_pipeline = deepcopy(test_data_cfg.pipeline)
        flip_tta = dict(
            type='TestTimeAug',
            transforms=[
                [
                    dict(type='RandomFlip', prob=1.),
                    dict(type='RandomFlip', prob=0.)
                ],
                [
                    dict(
                        type='PackDetInputs',
                        meta_keys=('img_id', 'img_path', 'ori_shape',
                                   'img_shape', 'scale_factor', 'flip',
                                   'flip_direction'))
                ],
            ])
        cfg.tta_pipeline[-1] = flip_tta
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return cfg


def _cls_tta_cfg(cfg: Config) -> Config:
    """MMPretrain's ``--tta``: average the scores of the image and its
    horizontal flip (unless the config has its own TTA)."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ], [test_pipeline[-1]]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return cfg


def _tta_cfg(cfg: Config) -> Config:
    """``--tta`` as the config's toolbox does it."""
    scope = toolbox_of(cfg)
    if scope == 'mmdet':
        return _det_tta_cfg(cfg)
    if scope == 'mmpretrain':
        return _cls_tta_cfg(cfg)
    why = ('their test pipeline sets the clips and crops per video '
           '(SampleFrames num_clips, ThreeCrop)'
           if scope == 'mmaction' else 'drop --tta')
    raise ConfigError(f'--tta: {TOOLBOXES.get(scope, scope)} configs have no '
                      f'test-time augmentation to switch on here; {why}.')


def _visualization_cfg(cfg: Config, show: bool, show_dir: Optional[str],
                       wait_time: float) -> Config:
    """``--show``/``--show-dir``: switch on the visualization hook."""
    if toolbox_of(cfg) == 'mmdet':
        from mmdet.engine.hooks.utils import trigger_visualization_hook
        return trigger_visualization_hook(
            cfg,
            SimpleNamespace(show=show, show_dir=show_dir, wait_time=wait_time))
    hook = (cfg.get('default_hooks') or {}).get('visualization')
    if hook is None:
        raise ConfigError(
            '--show/--show-dir: the config has no '
            'default_hooks.visualization; add `default_hooks = dict('
            'visualization=dict(type=\'VisualizationHook\'))`.')
    hook.enable = True
    hook.show = show
    hook.wait_time = wait_time
    hook.out_dir = show_dir
    return cfg


def prepare_test_cfg(cfg: Config,
                     checkpoint: str,
                     out: Optional[str] = None,
                     show: bool = False,
                     show_dir: Optional[str] = None,
                     wait_time: float = 2,
                     tta: bool = False) -> Config:
    """Apply ``tools/test.py``'s options to a config.

    Args:
        cfg (Config): From :func:`~gcnet_plugin.cli.config.load_config`.
        checkpoint (str): A local file or a URL.
        out (str, optional): ``--out``; must end in ``.pkl``/``.pickle``.
        show (bool): ``--show``.
        show_dir (str, optional): ``--show-dir``.
        wait_time (float): ``--wait-time``.
        tta (bool): ``--tta``.

    Returns:
        Config: The config (a new one with visualisation).

    Raises:
        ConfigError: The checkpoint is missing, ``out`` is not a pickle,
            or the toolbox has no ``--tta``/visualization to switch on.
        IncompleteCheckpointError: The checkpoint file was cut short.
    """
    check_checkpoint_arg(checkpoint)
    if out is not None and not out.endswith(('.pkl', '.pickle')):
        raise ConfigError(f'--out {out}: the file must end in .pkl or '
                          '.pickle.')
    cfg.load_from = checkpoint
    if show or show_dir:
        cfg = _visualization_cfg(cfg, show, show_dir, wait_time)
    if tta:
        cfg = _tta_cfg(cfg)
    return cfg


def finish_test_runner(runner: Any,
                       checkpoint: str,
                       allow_partial: bool = False,
                       out: Optional[str] = None,
                       fuse_conv_bn: bool = False) -> None:
    """Register the fit check, the prediction dump and conv-BN fusion.

    Args:
        runner (Runner): The built Runner.
        checkpoint (str): Its name for the fit check's messages.
        allow_partial (bool): ``--allow-partial``.
        out (str, optional): ``--out``.
        fuse_conv_bn (bool): ``--fuse-conv-bn``.
    """
    # Refuse a checkpoint that does not fit the model, before loading it.
    runner.register_hook(
        CheckpointFitHook(allow_partial=allow_partial, name=checkpoint))
    if fuse_conv_bn:
        runner.register_hook(FuseConvBNHook())
    if out is not None:
        if toolbox_of(runner.cfg) == 'mmdet':
            from mmdet.evaluation import DumpDetResults as DumpResults
        else:
            from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=out))
