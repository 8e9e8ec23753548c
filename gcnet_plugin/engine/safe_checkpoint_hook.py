"""mmengine's ``CheckpointHook`` with crash-safe saving.

mmengine 0.10.7's hook, with ``max_keep_ckpts`` set, deletes the oldest
checkpoint *before* writing the new one, writes the new one in place and
then rewrites ``last_checkpoint`` in place: a run killed during a save
(the quickstart keeps one checkpoint) can be left with no complete
checkpoint at all, or with ``last_checkpoint`` naming a truncated file.
:class:`SafeCheckpointHook` saves in this order instead:

1. the checkpoint, through :class:`~.atomic_files.AtomicLocalBackend`
   (temporary file, flush, fsync, rename), for a local ``out_dir``;
2. ``last_checkpoint``, atomically, only after the rename;
3. only then, the checkpoints ``max_keep_ckpts`` drops.

A save killed at any point leaves the previous checkpoint complete and
named by ``last_checkpoint``. ``save_best`` keeps mmengine's order (the
old best is deleted before the new one is written). Before training,
rank 0 removes the temporary files of killed saves from ``out_dir``.
"""
import os.path as osp
from typing import Any, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from .atomic_files import atomic_write, remove_stale_temporaries

__all__ = ['SafeCheckpointHook']


def _is_local(path: str) -> bool:
    return '://' not in str(path)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves survive being killed midway.

    Takes ``CheckpointHook``'s arguments. ``backend_args`` defaults to
    ``dict(backend='local_atomic')`` when ``out_dir`` is local and neither
    ``backend_args`` nor ``file_client_args`` is given; other storage
    keeps mmengine's writer.
    """

    def before_train(self, runner: Any) -> None:
        out_dir = self.out_dir if self.out_dir is not None \
            else runner.work_dir
        if (self.backend_args is None and self.file_client_args is None
                and _is_local(out_dir)):
            self.backend_args = dict(backend='local_atomic')
        super().before_train(runner)
        if is_main_process() and _is_local(self.out_dir):
            for path in remove_stale_temporaries(self.out_dir):
                runner.logger.info(
                    f'Removed {path}, left by a checkpoint save that was '
                    'killed.')

    def _save_checkpoint_with_step(self, runner: Any, step: int,
                                   meta: dict) -> None:
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None and outdated != step:
            self._remove(self.filename_tmpl.format(outdated))

    def _remove(self, filename: str) -> None:
        path = self.file_backend.join_path(self.out_dir, filename)
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)  # deepspeed saves folders
