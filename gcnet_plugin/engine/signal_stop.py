"""Stop training cleanly on SIGTERM or SIGINT.

By default SIGTERM kills the training process on the spot, leaving its
dataloader workers behind, and SIGINT raises ``KeyboardInterrupt`` at an
arbitrary point with a long traceback. :class:`SignalStopHook` instead
notes the signal and stops at the end of the current iteration (a
checkpoint being saved is finished first): it logs one line naming the
last complete checkpoint and the command that resumes from it, and exits
with status ``128 + signal`` (130 for SIGINT, 143 for SIGTERM), the
dataloader shutting its workers down on the way out. A second signal
stops at once.

In a distributed run every process stops on its own signal (torchrun
forwards SIGTERM to each); only rank 0 prints.
"""
import os
import os.path as osp
import shlex
import signal
import sys
from types import FrameType
from typing import Any, Dict, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['SignalStopHook', 'resume_command']

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def resume_command(argv: Optional[List[str]] = None) -> str:
    """The command line that resumes the run ``argv`` started.

    ``argv`` without the launcher's additions (``--local-rank``,
    ``--launcher``) and any ``--resume [PATH]``, plus ``--resume`` (auto).
    Under torchrun (``LOCAL_WORLD_SIZE`` set) the command is the
    ``dist_train.sh`` beside the script with that many processes.

    Args:
        argv (list[str], optional): Defaults to ``sys.argv``.

    Returns:
        str: E.g. ``python tools/train.py CONFIG --work-dir DIR --resume``,
        shell-quoted.
    """
    argv = list(sys.argv if argv is None else argv)
    args, kept = argv[1:], []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split('=', 1)[0]
        i += 1
        if name in ('--local-rank', '--local_rank', '--launcher'):
            i += 0 if '=' in arg else 1
        elif name == '--resume':
            # ``--resume`` takes an optional path.
            if '=' not in arg and i < len(args) and \
                    not args[i].startswith('-'):
                i += 1
        else:
            kept.append(arg)
    processes = os.environ.get('LOCAL_WORLD_SIZE')
    if processes is not None and kept:
        script = osp.join(osp.dirname(argv[0]), 'dist_train.sh')
        words = ['bash', script, kept[0], processes] + kept[1:]
    else:
        words = ['python', argv[0]] + kept
    return ' '.join(shlex.quote(word) for word in words + ['--resume'])


def _last_checkpoint(work_dir: str) -> Optional[str]:
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        last = f.read().strip()
    return last if last and osp.isfile(last) else None


@HOOKS.register_module()
class SignalStopHook(Hook):
    """Turn SIGTERM/SIGINT into a clean stop between iterations.

    Installs its handlers in ``before_train`` (the main thread) and puts
    the previous ones back in ``after_train``.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._signal: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def before_train(self, runner: Any) -> None:
        self._runner = runner
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def after_train(self, runner: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._signal is None:
            self._signal = signum
            if is_main_process():
                self._runner.logger.warning(
                    f'{signal.Signals(signum).name} received: stopping '
                    'after the current iteration (send it again to stop '
                    'now).')
            return
        self._stop(self._runner, now=True)

    def _check(self, runner: Any) -> None:
        if self._signal is not None:
            self._stop(runner)

    def after_train_iter(self, runner: Any, **kwargs: Any) -> None:
        self._check(runner)

    def before_train_iter(self, runner: Any, **kwargs: Any) -> None:
        self._check(runner)  # e.g. a signal during a checkpoint save

    def after_val_iter(self, runner: Any, **kwargs: Any) -> None:
        self._check(runner)

    def _stop(self, runner: Any, now: bool = False) -> None:
        signum = self._signal
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if is_main_process():
            last = _last_checkpoint(runner.work_dir)
            where = (f'last complete checkpoint: {last}; resume with: '
                     f'{resume_command()}'
                     if last else 'no checkpoint was written yet')
            runner.logger.warning(
                f'Training stopped by {signal.Signals(signum).name}'
                f'{" (immediately)" if now else ""} in epoch '
                f'{runner.epoch + 1} at iteration {runner.iter + 1}; {where}')
        raise SystemExit(128 + signum)
