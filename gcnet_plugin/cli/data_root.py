"""``--data-root DIR``: read a config's data from where the user keeps it.

mmengine resolves a config's paths when it reads the file: MMDetection's
base configs write ``data_root`` into every dataloader's dataset and into
the evaluators' ``ann_file`` (``data_root + 'annotations/...'``), so a
child config that sets only ``data_root`` changes nothing (see
:func:`gcnet_plugin.data.checks.ignored_data_root`). :func:`set_data_root`
points all of them at the new folder, wrappers included, keeping each
path's part below the old root.
"""
import os.path as osp
from typing import Iterable, List, Optional

from mmengine.config import Config

from ..data.dataset_cfgs import SPLITS, split_datasets, split_evaluators

__all__ = ['set_data_root']


def _rebase(path: str, old_roots: Iterable[str], root: str) -> Optional[str]:
    """``path`` moved from under one of ``old_roots`` to ``root``."""
    norm = osp.normpath(path)
    for old in old_roots:
        old = osp.normpath(old)
        if norm == old or norm.startswith(old + osp.sep):
            return osp.join(root, osp.relpath(norm, old))
    return None


def set_data_root(cfg: Config, root: str) -> List[str]:
    """Point every dataset and evaluator of ``cfg`` at ``root``.

    The config's top-level ``data_root`` (if any) becomes ``root`` too.
    Each leaf dataset of ``train/val/test_dataloader`` (inside wrappers
    too) gets ``data_root=root``; its ``ann_file`` and ``data_prefix``
    stay relative to it (an absolute one under the old root is moved). An
    evaluator's ``ann_file`` under the old root of its split's datasets is
    moved below ``root`` the same way; one elsewhere that has the name of
    its split's (single) annotation file is replaced by that file under
    ``root``.

    Args:
        cfg (Config): A full config; changed in place.
        root (str): The data folder (``train2017/``, ``annotations/``...).

    Returns:
        list[str]: The config keys that were changed.
    """
    root = osp.abspath(osp.expanduser(root))
    changed: List[str] = []
    if 'data_root' in cfg:
        cfg.data_root = root + osp.sep  # what the datasets read now
    for split in SPLITS:
        old_roots, ann_files = [], []
        for where, ds in split_datasets(cfg, split):
            old = ds.get('data_root')
            if old:
                old_roots.append(old)
            ds['data_root'] = root + osp.sep
            changed.append(f'{where}.data_root')
            ann_file = ds.get('ann_file')
            if ann_file and osp.isabs(ann_file):
                moved = _rebase(ann_file, [old] if old else [], root)
                if moved:
                    ds['ann_file'] = moved
                    changed.append(f'{where}.ann_file')
            elif ann_file:
                ann_files.append(ann_file)
            prefix = ds.get('data_prefix') or {}
            for key, value in prefix.items():
                if isinstance(value, str) and osp.isabs(value):
                    moved = _rebase(value, [old] if old else [], root)
                    if moved:
                        prefix[key] = moved
                        changed.append(f'{where}.data_prefix.{key}')
        for where, ev in split_evaluators(cfg, split):
            ann_file = ev.get('ann_file')
            if not isinstance(ann_file, str):
                continue
            moved = _rebase(ann_file, old_roots, root)
            if moved is None and len(ann_files) == 1 and \
                    osp.basename(ann_file) == osp.basename(ann_files[0]):
                moved = osp.join(root, ann_files[0])
            if moved is not None:
                ev['ann_file'] = moved
                changed.append(f'{where}.ann_file')
    return changed
