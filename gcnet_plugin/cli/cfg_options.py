"""Refuse ``--cfg-options`` keys that would change nothing.

mmengine merges any ``key=value`` into the config: a misspelled key
(``train_cfg.max_epoch``) adds an entry that surfaces as a ``TypeError``
deep inside the Runner, and a top-level variable of the config file
(``max_epochs``, ``data_root``) is set after the file has used it, so it
is silently ignored. :func:`check_cfg_options` accepts a key when

- it exists in the config and is not such a variable, or
- it is a new argument of an object the config builds: its parent entry
  names a registered ``type`` whose constructor takes that argument
  (``optim_wrapper.accumulative_counts``,
  ``train_dataloader.dataset.indices``), or its parent is a dataloader
  (``torch.utils.data.DataLoader``'s arguments), or
- it is written ``+key=value`` (taken as it is).

Otherwise it raises :class:`ConfigError` naming the closest existing keys.
"""
import difflib
import inspect
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from mmengine.config import Config

from .errors import ConfigError
from .toolbox import scope_registries, toolbox_of

__all__ = [
    'RUNNER_KEYS', 'check_cfg_options', 'config_keys', 'split_forced',
    'suggest_keys'
]

# Top-level keys something reads after the config file is parsed: the
# arguments of mmengine's ``Runner.from_cfg`` and the entries its methods
# and the tools look up (``runner.cfg.get(...)``).
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'sync_bn', 'find_unused_parameters',
    'activation_checkpointing', 'efficient_conv_bn_eval', 'compile',
    'custom_imports', 'runner_type', 'tta_model', 'tta_pipeline'
})
DATALOADERS = frozenset(f'{s}_dataloader' for s in ('train', 'val', 'test'))
# Entries without a ``type`` that the Runner reads, and what it reads.
KNOWN_ARGUMENTS = dict(
    auto_scale_lr=frozenset({'enable', 'base_batch_size'}),
    randomness=frozenset({'seed', 'diff_rank_seed', 'deterministic'}),
    env_cfg=frozenset(
        {'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'}))
# read by a builder, not by the built class: mmengine's
# build_optim_wrapper takes these out of optim_wrapper
BUILDER_ARGUMENTS = dict(
    optim_wrapper=frozenset({'paramwise_cfg', 'constructor'}))
# passed on as **kwargs (init_process_group, multiprocessing setup,
# the optimizer constructor's paramwise options): any key is accepted
OPEN_DICTS = frozenset(
    {'env_cfg.dist_cfg', 'env_cfg.mp_cfg', 'optim_wrapper.paramwise_cfg'})
FORCE_PREFIX = '+'


def split_forced(options: Dict[str, Any]) -> Tuple[Dict[str, Any], Set[str]]:
    """Strip the ``+`` of forced keys.

    Args:
        options (dict): ``--cfg-options`` as parsed by ``DictAction``.

    Returns:
        tuple[dict, set[str]]: The options with plain keys, and the keys
        that were written ``+key``.
    """
    plain, forced = {}, set()
    for key, value in options.items():
        if key.startswith(FORCE_PREFIX):
            key = key[len(FORCE_PREFIX):]
            forced.add(key)
        plain[key] = value
    return plain, forced


def config_keys(cfg: Any, prefix: str = '') -> Dict[str, Any]:
    """Every dotted key of a config (inner dicts and list items included).

    Args:
        cfg (dict | list): A config or a part of it.
        prefix (str): The key of ``cfg`` itself.

    Returns:
        dict[str, Any]: ``{'train_cfg': {...}, 'train_cfg.max_epochs': 12,
        'param_scheduler.0.end': 500, ...}``.
    """
    keys: Dict[str, Any] = {}
    if isinstance(cfg, dict):
        items: Iterable = cfg.items()
    elif isinstance(cfg, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(cfg))
    else:
        return keys
    for name, value in items:
        key = f'{prefix}.{name}' if prefix else str(name)
        keys[key] = value
        keys.update(config_keys(value, key))
    return keys


def suggest_keys(key: str, candidates: Iterable[str], n: int = 3) -> List[str]:
    """The candidates closest to ``key``, comparing equally long endings.

    ``max_epochs`` matches ``train_cfg.max_epochs`` and ``norm_cfg.typ``
    matches ``model.backbone.norm_cfg.type``: a key is compared with the
    same number of trailing parts of each candidate, its last part
    counting as much as the whole. Only those about as close as the best
    are kept.

    Args:
        key (str): The unknown key.
        candidates (Iterable[str]): Existing dotted keys.
        n (int): At most this many. Defaults to 3.

    Returns:
        list[str]: Best first (then shorter first).
    """
    parts = key.split('.')
    scored = []
    for cand in candidates:
        cand_parts = cand.split('.')
        tail = '.'.join(cand_parts[-len(parts):])
        score = (difflib.SequenceMatcher(None, key, tail).ratio() +
                 difflib.SequenceMatcher(None, parts[-1],
                                         cand_parts[-1]).ratio()) / 2
        if score >= 0.75:
            scored.append((-score, len(cand_parts), cand))
    if not scored:
        return []
    scored.sort()
    best = -scored[0][0]
    return [cand for score, _, cand in scored[:n] if -score >= best - 0.05]


def _resolve(type_: Any, scope: str) -> List[Callable]:
    """The registered classes/functions a config's ``type`` may name."""
    if not isinstance(type_, str):
        return [type_] if callable(type_) else []
    from mmengine.registry import DefaultScope
    found = []
    with DefaultScope.overwrite_default_scope(scope):
        for registry in scope_registries(scope):
            try:
                obj = registry.get(type_)
            except Exception:  # a registry whose lazy import fails
                obj = None
            if obj is not None and obj not in found:
                found.append(obj)
    return found


def _arguments(obj: Callable) -> Optional[Set[str]]:
    """Keyword arguments ``obj`` accepts; None when it takes any."""
    names: Set[str] = set()
    chain = [c.__init__ for c in inspect.getmro(obj)
             if '__init__' in vars(c)] if inspect.isclass(obj) else [obj]
    for func in chain:
        try:
            params = inspect.signature(func).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(
            p.name for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return None if not inspect.isclass(obj) else names


def _parent_arguments(parent_key: str, parent: Any,
                      scope: str) -> Optional[Set[str]]:
    """Arguments of what ``parent`` builds; None: any is accepted."""
    if parent_key in KNOWN_ARGUMENTS:
        return set(KNOWN_ARGUMENTS[parent_key])
    if parent_key in DATALOADERS:
        from torch.utils.data import DataLoader
        return _arguments(DataLoader) or set()
    if not isinstance(parent, dict) or 'type' not in parent:
        return set()
    names: Set[str] = set()
    for obj in _resolve(parent['type'], scope):
        accepted = _arguments(obj)
        if accepted is None:
            return None
        names |= accepted
    return names | BUILDER_ARGUMENTS.get(parent_key, frozenset())


def check_cfg_options(cfg: Config,
                      options: Dict[str, Any],
                      forced: Iterable[str] = (),
                      filename: Optional[str] = None) -> None:
    """Refuse ``--cfg-options`` keys that match nothing the config uses.

    Args:
        cfg (Config): The config before the options are merged.
        options (dict): Plain keys (see :func:`split_forced`) to values.
        forced (Iterable[str]): Keys written ``+key``: not checked.
        filename (str, optional): The config file, for the message.

    Raises:
        ConfigError: Naming each refused key, why, and the closest keys.
    """
    existing = config_keys(cfg._cfg_dict.to_dict())
    used = {
        k: v
        for k, v in existing.items() if k.split('.')[0] in RUNNER_KEYS
    }
    scope = toolbox_of(cfg)
    forced = set(forced)
    problems = []
    for key in options:
        if key in forced:
            continue
        top = key.split('.')[0]
        if top not in RUNNER_KEYS and key in existing:
            problems.append(_variable_problem(key, used))
            continue
        if key in used or key in RUNNER_KEYS or any(
                key.startswith(open_dict + '.') for open_dict in OPEN_DICTS):
            continue
        parent_key, _, name = key.rpartition('.')
        arguments: Optional[Set[str]] = set()
        if parent_key in used or parent_key in KNOWN_ARGUMENTS:
            arguments = _parent_arguments(parent_key, used.get(parent_key),
                                          scope)
            if arguments is None or name in arguments:
                continue
        candidates = dict(used)
        candidates.update(
            (f'{parent_key}.{arg}', None) for arg in arguments or ())
        problems.append(_unknown_problem(key, candidates, filename))
    if problems:
        raise ConfigError('--cfg-options: ' + '\n'.join(problems) +
                          '\nWrite +KEY=VALUE to set a key anyway.')


def _did_you_mean(key: str, used: Dict[str, Any]) -> str:
    close = suggest_keys(key, used)
    if not close:
        return ''
    return ' Did you mean ' + ' or '.join(close) + '?'


def _variable_problem(key: str, used: Dict[str, Any]) -> str:
    if key.split('.')[0] == 'data_root':
        hint = ' Pass --data-root DIR instead.'
    else:
        hint = _did_you_mean(key, used)
    return (f'{key!r} is a variable of the config file: the file used it '
            'while it was read and nothing reads it now, so setting it '
            f'changes nothing.{hint}')


def _unknown_problem(key: str, used: Dict[str, Any],
                     filename: Optional[str]) -> str:
    where = f' of {filename}' if filename else ''
    return f'{key!r} is not a key{where}.{_did_you_mean(key, used)}'
