"""Configuration and data errors as one short message, not a traceback.

A user who points a tool at a missing folder or misspells a key needs the
key or file, the problem and the fix; the Python traceback around it and,
under ``tools/dist_train.sh``, one copy per process plus torchrun's
failure report bury it. :func:`user_errors` wraps a tool's work: an
exception of a class in :data:`USER_ERRORS` is printed as one message and
the process exits with :data:`EXIT_USER_ERROR`.

- ``--debug`` (``debug=True``) or ``GCNET_DEBUG=1`` re-raises it, so the
  traceback shows;
- in a distributed run only rank 0 prints it;
- under ``tools/dist_train.sh``/``dist_test.sh`` (``GCNET_ERROR_DIR``
  set) each process writes it to ``$GCNET_ERROR_DIR/<rank>`` instead, and
  the script prints the lowest rank's message after torchrun has exited,
  so that it is the last thing the user sees.
"""
import contextlib
import os
import os.path as osp
import sys
from typing import Iterator, List, Type

from ..compat import (CheckpointDownloadError, CheckpointMismatchError,
                      CheckpointRefusedError, SyncBNError)
from ..data.checks import DataCheckError
from ..engine.checkpoint_files import IncompleteCheckpointError

__all__ = [
    'ConfigError', 'launcher_rank', 'EXIT_USER_ERROR', 'USER_ERRORS',
    'format_user_error', 'register_user_error', 'user_errors'
]

# As argparse's exit status for a bad command line.
EXIT_USER_ERROR = 2
_TRUE = ('1', 'y', 'yes', 'true')


class ConfigError(ValueError):
    """A config file or a ``--cfg-options`` key the tools cannot use."""


USER_ERRORS: List[Type[BaseException]] = [
    ConfigError, DataCheckError, CheckpointMismatchError,
    CheckpointRefusedError, CheckpointDownloadError, SyncBNError,
    IncompleteCheckpointError
]


def register_user_error(cls: Type[BaseException]) -> Type[BaseException]:
    """Report ``cls`` as a message without a traceback (class decorator).

    Args:
        cls (type): An exception class whose message says what to do.

    Returns:
        type: ``cls``.
    """
    if cls not in USER_ERRORS:
        USER_ERRORS.append(cls)
    return cls


def launcher_rank() -> int:
    """The process's global rank from the launchers' environment."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK'):
        value = os.environ.get(name)
        if value is not None and value.isdigit():
            return int(value)
    return 0


def format_user_error(prog: str, exc: BaseException) -> str:
    """The message the user sees for ``exc``.

    Args:
        prog (str): The tool, e.g. ``'tools/train.py'``.
        exc (BaseException): The error.

    Returns:
        str: ``'<prog>: error: <first line>'``, the other lines of the
        error's message indented, and how to see the traceback.
    """
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    body = [f'{prog}: error: {lines[0]}']
    body += [
        line if line.startswith('  ') else f'  {line}' for line in lines[1:]
    ]
    body.append('  (--debug or GCNET_DEBUG=1 shows the traceback)')
    return '\n'.join(body)


def _emit(message: str) -> None:
    error_dir = os.environ.get('GCNET_ERROR_DIR')
    rank = launcher_rank()
    if error_dir and osp.isdir(error_dir):
        path = osp.join(error_dir, str(rank))
        with open(path + '.tmp', 'w') as f:
            f.write(message + '\n')
        os.replace(path + '.tmp', path)
    elif rank == 0:
        sys.stdout.flush()
        print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def user_errors(prog: str, debug: bool = False) -> Iterator[None]:
    """Turn a user error raised inside the block into one message and exit.

    Args:
        prog (str): The tool's name for the message.
        debug (bool): Re-raise instead (the traceback shows). Also set by
            the environment variable ``GCNET_DEBUG=1``.

    Raises:
        SystemExit: With :data:`EXIT_USER_ERROR` after a user error.
    """
    try:
        yield
    except tuple(USER_ERRORS) as exc:
        if debug or os.getenv('GCNET_DEBUG', '').lower() in _TRUE:
            raise
        _emit(format_user_error(prog, exc))
        sys.exit(EXIT_USER_ERROR)
