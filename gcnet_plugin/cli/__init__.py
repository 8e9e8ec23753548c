"""The logic behind ``tools/train.py`` and ``tools/test.py``.

- :mod:`.config`: the arguments both tools take, reading the config with
  them applied, building the Runner;
- :mod:`.cfg_options`: ``--cfg-options`` keys checked against the config;
- :mod:`.data_root`: ``--data-root DIR``;
- :mod:`.errors`: configuration and data errors as one message;
- :mod:`.training`, :mod:`.batch`, :mod:`.smoke`: ``tools/train.py``'s
  options, the effective batch and lr, ``--smoke N``;
- :mod:`.evaluation`: ``tools/test.py``'s options;
- :mod:`.toolbox`: what differs between MMDetection, MMPretrain and
  MMAction2 configs (their ``default_scope``).
"""
from .batch import BatchPlan, apply_batch_plan, plan_batch
from .cfg_options import check_cfg_options, suggest_keys
from .config import (add_common_arguments, build_runner, check_checkpoint_arg,
                     finish_arguments, load_config)
from .data_root import set_data_root
from .errors import (EXIT_USER_ERROR, USER_ERRORS, ConfigError,
                     format_user_error, register_user_error, user_errors)
from .evaluation import FuseConvBNHook, finish_test_runner, prepare_test_cfg
from .smoke import smoke_cfg
from .toolbox import apply_toolbox_defaults, toolbox_of
from .training import prepare_train_cfg

__all__ = [
    'BatchPlan', 'ConfigError', 'EXIT_USER_ERROR', 'FuseConvBNHook',
    'USER_ERRORS', 'add_common_arguments', 'apply_batch_plan',
    'apply_toolbox_defaults', 'build_runner', 'check_cfg_options',
    'check_checkpoint_arg', 'finish_arguments', 'finish_test_runner',
    'format_user_error', 'load_config', 'plan_batch', 'prepare_test_cfg',
    'prepare_train_cfg', 'register_user_error', 'set_data_root', 'smoke_cfg',
    'suggest_keys', 'toolbox_of', 'user_errors'
]
