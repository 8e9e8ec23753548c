"""Write a file so that readers see the old version or the whole new one.

:func:`atomic_write` writes to a hidden temporary file in the target's
folder, flushes it, ``fsync``s it, renames it over the target and
``fsync``s the folder: a process killed at any moment (or a machine that
loses power after the call returns) leaves the previous file or the new
one, never a truncated one. A killed write leaves its temporary file
behind (``.<name>.<random>.partial``); :func:`remove_stale_temporaries`
clears them.

:class:`AtomicLocalBackend` is mmengine's local file backend with its
writes made atomic, registered as ``backend='local_atomic'`` for
``backend_args`` (what :class:`~.safe_checkpoint_hook.SafeCheckpointHook`
saves checkpoints through).
"""
import glob
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import List, Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = [
    'AtomicLocalBackend', 'atomic_write', 'remove_stale_temporaries',
    'temporary_pattern'
]

PathLike = Union[str, Path]
_CHUNK = 64 << 20  # write in pieces: one huge write() may be short

# the process's umask, read once (reading it means setting it)
_UMASK = os.umask(0)
os.umask(_UMASK)


def temporary_pattern(folder: PathLike) -> str:
    """The glob of :func:`atomic_write`'s temporary files in ``folder``."""
    return osp.join(str(folder), '.*.partial')


def atomic_write(path: PathLike, data: Union[bytes, str]) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    Args:
        path (str | Path): The file; its folder is created if missing.
        data (bytes | str): The content (str is written as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = osp.abspath(str(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.partial')
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 -> as open() makes
        with os.fdopen(fd, 'wb') as f:
            view = memoryview(data)
            for start in range(0, len(view), _CHUNK):
                f.write(view[start:start + _CHUNK])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: PathLike) -> List[str]:
    """Delete temporary files that killed :func:`atomic_write` calls left.

    Call it only when nothing writes into ``folder`` (before training).

    Returns:
        list[str]: The removed files.
    """
    removed = []
    for path in sorted(glob.glob(temporary_pattern(folder))):
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


@register_backend('local_atomic')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` with atomic ``put``/``put_text``."""

    def put(self, obj: bytes, filepath: PathLike) -> None:
        """Write bytes to ``filepath`` atomically (see atomic_write)."""
        atomic_write(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: PathLike,
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (see atomic_write)."""
        atomic_write(filepath, obj.encode(encoding))
