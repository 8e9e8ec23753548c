"""The batch a training really uses, against the one its lr is set for.

The paper configs' lr is for 16 images per optimizer step
(``auto_scale_lr.base_batch_size``; 8 GPUs x 2 images). On fewer devices
the batch shrinks silently unless the user scales the lr
(``--auto-scale-lr``) or accumulates gradients
(``optim_wrapper.accumulative_counts``). :func:`apply_batch_plan` logs
the effective batch (processes x images per process x accumulated
iterations) and the lr that will be used, warns once when the batch
differs from the config's and the lr is not scaled, and does the scaling
itself: mmengine's ``Runner.scale_lr`` ignores ``accumulative_counts``.
With accumulation it also warns that iteration-based schedules (the
warmup) count iterations, not optimizer steps.
"""
import logging
from dataclasses import dataclass
from typing import Any, Optional

from mmengine.config import Config
from mmengine.logging import print_log

__all__ = [
    'BatchPlan', 'apply_batch_plan', 'iteration_schedule_note', 'plan_batch'
]


@dataclass
class BatchPlan:
    """How many images one optimizer step sees, and with which lr.

    Attributes:
        processes (int): Training processes (world size).
        per_process (int): ``train_dataloader.batch_size``.
        accumulation (int): ``optim_wrapper.accumulative_counts``.
        base (int, optional): ``auto_scale_lr.base_batch_size``.
        lr (float, optional): The config's ``optim_wrapper.optimizer.lr``.
        auto_scale (bool): Scale the lr by ``effective / base``.
    """
    processes: int
    per_process: int
    accumulation: int = 1
    base: Optional[int] = None
    lr: Optional[float] = None
    auto_scale: bool = False

    @property
    def effective(self) -> int:
        """Images per optimizer step."""
        return self.processes * self.per_process * self.accumulation

    @property
    def differs(self) -> bool:
        """Whether the batch is not the one the config's lr is set for."""
        return self.base is not None and self.effective != self.base

    @property
    def lr_used(self) -> Optional[float]:
        """The lr the optimizer gets."""
        if self.lr is None or not (self.auto_scale and self.differs):
            return self.lr
        return self.lr * self.effective / self.base

    def summary(self) -> str:
        """One line: the batch, the config's batch and the lr."""
        processes = f'{self.processes} process' + ('es' if self.processes != 1
                                                   else '')
        images = f'{self.per_process} image' + ('s' if self.per_process != 1
                                                else '')
        text = f'Batch: {processes} x {images}'
        if self.accumulation != 1:
            text += f' x {self.accumulation} accumulated iterations'
        text += f' = {self.effective} images per optimizer step'
        if self.base is not None:
            text += f' (the config\'s lr is for {self.base})'
        if self.lr is not None:
            scaled = ' (scaled by --auto-scale-lr)' if (
                self.auto_scale and self.differs) else ''
            text += f'; lr {self.lr_used:g}{scaled}'
        return text + '.'

    def warning(self) -> Optional[str]:
        """What to do when the batch differs and the lr is not scaled."""
        if not self.differs or self.auto_scale:
            return None
        text = (f'The batch ({self.effective} images per optimizer step) is '
                f'not the {self.base} that the config\'s lr')
        text += f' {self.lr:g}' if self.lr is not None else ''
        text += (' is set for, and --auto-scale-lr is not given: training '
                 'with the unscaled lr.')
        if self.lr is not None:
            scaled = self.lr * self.effective / self.base
            text += f' Add --auto-scale-lr (lr {scaled:g})'
        else:
            text += ' Add --auto-scale-lr'
        per_step = self.processes * self.per_process
        if self.base % per_step == 0 and self.base > per_step:
            text += (', or accumulate gradients to reach '
                     f'{self.base} images: --cfg-options '
                     'optim_wrapper.accumulative_counts='
                     f'{self.base // per_step}')
        return text + '.'


def _optimizer_cfg(optim_wrapper: Any) -> Optional[dict]:
    if isinstance(optim_wrapper, dict) and isinstance(
            optim_wrapper.get('optimizer'), dict):
        return optim_wrapper['optimizer']
    return None


def plan_batch(cfg: Config, processes: int, auto_scale: bool) -> BatchPlan:
    """Read the batch and lr settings of a config.

    Args:
        cfg (Config): A training config.
        processes (int): The world size.
        auto_scale (bool): ``--auto-scale-lr`` (or the config's
            ``auto_scale_lr.enable``).

    Returns:
        BatchPlan: The plan.
    """
    optim_wrapper = cfg.get('optim_wrapper') or {}
    optimizer = _optimizer_cfg(optim_wrapper) or {}
    auto_scale_lr = cfg.get('auto_scale_lr') or {}
    return BatchPlan(
        processes=processes,
        per_process=cfg.train_dataloader.batch_size,
        accumulation=int(optim_wrapper.get('accumulative_counts', 1)),
        base=auto_scale_lr.get('base_batch_size'),
        lr=optimizer.get('lr'),
        auto_scale=auto_scale or bool(auto_scale_lr.get('enable', False)))


def iteration_schedule_note(cfg: Config, accumulation: int) -> Optional[str]:
    """Name the iteration-based lr schedules that accumulation shortens.

    mmengine steps every ``by_epoch=False`` scheduler once per iteration,
    not per optimizer step: with ``k`` accumulated iterations the paper's
    500-iteration warmup spans 500 / k updates.

    Args:
        cfg (Config): A training config.
        accumulation (int): ``optim_wrapper.accumulative_counts``.

    Returns:
        str | None: The schedulers and the ``--cfg-options`` that keep
        their length in updates, or None.
    """
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    if accumulation == 1:
        return None
    found = [(i, s) for i, s in enumerate(schedulers)
             if isinstance(s, dict) and s.get('by_epoch', True) is False
             and isinstance(s.get('end'), int)]
    if not found:
        return None
    names = ', '.join(f'{s.get("type")} (param_scheduler.{i}, '
                      f'{s.get("begin", 0)}-{s["end"]})' for i, s in found)
    options = ' '.join(
        f'param_scheduler.{i}.begin={s.get("begin", 0) * accumulation} '
        f'param_scheduler.{i}.end={s["end"] * accumulation}' for i, s in found)
    return (f'{names} counts iterations, not optimizer steps: with '
            f'{accumulation} accumulated iterations it lasts '
            f'{accumulation} times fewer updates. To keep its length in '
            f'updates: --cfg-options {options}')


def apply_batch_plan(runner: Any, cfg: Config, auto_scale: bool) -> BatchPlan:
    """Log the batch and lr, warn if unscaled, scale the lr if asked.

    Call it after the Runner is built (the world size is known) and before
    ``runner.train()`` (the optimizer is not built yet).

    Args:
        runner (Runner): The built Runner.
        cfg (Config): Its config.
        auto_scale (bool): ``--auto-scale-lr``.

    Returns:
        BatchPlan: The plan that was applied.
    """
    plan = plan_batch(cfg, runner.world_size, auto_scale)
    optimizer = _optimizer_cfg(runner.optim_wrapper)
    if plan.auto_scale and optimizer is not None and plan.lr is not None:
        # The Runner would scale by processes x images per process only.
        optimizer['lr'] = plan.lr_used
        runner.auto_scale_lr = None
    print_log(plan.summary(), logger=runner.logger)
    for warning in (plan.warning(),
                    iteration_schedule_note(cfg, plan.accumulation)):
        if warning is not None:
            print_log(warning, logger=runner.logger, level=logging.WARNING)
    return plan
