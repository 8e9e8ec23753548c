"""Walk the dataset and evaluator entries of a config.

A config's data lives in ``{train,val,test}_dataloader.dataset`` (possibly
inside ``RepeatDataset``/``ClassBalancedDataset``-style wrappers, which hold
one ``dataset``, or ``ConcatDataset``, which holds a list ``datasets``) and
in ``{val,test}_evaluator`` (a dict or a list of dicts). The data check,
``--data-root`` and the smoke run all need the same walk.
"""
from typing import Any, Dict, Iterator, List, Tuple

__all__ = ['SPLITS', 'leaf_datasets', 'split_datasets', 'split_evaluators']

SPLITS = ('train', 'val', 'test')


def leaf_datasets(cfg: Any, where: str) -> Iterator[Tuple[str, Dict]]:
    """Yield ``(config key, dataset dict)`` for each dataset inside wrappers.

    Args:
        cfg (dict | None): A dataset config, maybe a wrapper.
        where (str): Its config key, e.g. ``'train_dataloader.dataset'``.

    Yields:
        tuple[str, dict]: e.g. ``('train_dataloader.dataset.dataset',
        {...})`` for a ``RepeatDataset``'s inner dataset. The dicts are the
        config's own: changing them changes the config.
    """
    if cfg is None:
        return
    if 'datasets' in cfg:  # ConcatDataset
        for i, sub in enumerate(cfg['datasets']):
            yield from leaf_datasets(sub, f'{where}.datasets.{i}')
    elif 'dataset' in cfg:  # RepeatDataset, ClassBalancedDataset, ...
        yield from leaf_datasets(cfg['dataset'], f'{where}.dataset')
    else:
        yield where, cfg


def split_datasets(cfg: Any, split: str) -> List[Tuple[str, Dict]]:
    """The leaf datasets of ``{split}_dataloader`` (empty if it has none).

    Args:
        cfg (Config | dict): A full config.
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        list[tuple[str, dict]]: As :func:`leaf_datasets`.
    """
    loader = cfg.get(f'{split}_dataloader')
    if not loader or not loader.get('dataset'):
        return []
    where = f'{split}_dataloader.dataset'
    return list(leaf_datasets(loader['dataset'], where))


def split_evaluators(cfg: Any, split: str) -> List[Tuple[str, Dict]]:
    """The evaluator dicts of ``{split}_evaluator`` with their config keys.

    Args:
        cfg (Config | dict): A full config.
        split (str): ``'val'`` or ``'test'`` (``'train'`` has none).

    Returns:
        list[tuple[str, dict]]: e.g. ``[('val_evaluator', {...})]`` or,
        for a list, ``[('val_evaluator.0', {...}), ...]``.
    """
    evaluators = cfg.get(f'{split}_evaluator') if split != 'train' else None
    if not evaluators:
        return []
    if isinstance(evaluators, dict):
        return [(f'{split}_evaluator', evaluators)]
    return [(f'{split}_evaluator.{i}', ev) for i, ev in enumerate(evaluators)
            if isinstance(ev, dict)]
