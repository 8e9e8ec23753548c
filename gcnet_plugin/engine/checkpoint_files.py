"""Tell complete checkpoint files from truncated ones; pick one to resume.

``torch.save`` writes a zip archive whose directory sits at the end of
the file, so a checkpoint cut short by a kill, a full disk or a lost node
has no directory and ``torch.load`` fails with "failed finding central
directory". mmengine's ``--resume`` (auto) takes whatever file
``last_checkpoint`` names; checkpoints written before saves were atomic
(:mod:`.atomic_files`) may be such files. :func:`find_resumable_checkpoint`
picks the newest complete one instead, and says which it skipped.
"""
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.logging import print_log

__all__ = [
    'IncompleteCheckpointError', 'check_checkpoint_complete',
    'find_resumable_checkpoint'
]

_ZIP_MAGIC = b'PK\x03\x04'
_STEP_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class IncompleteCheckpointError(RuntimeError):
    """A checkpoint file is truncated or corrupt."""


def check_checkpoint_complete(path: str, verify_crc: bool = True) -> None:
    """Raise if ``path`` is not a complete ``torch.save`` archive.

    Files in torch's legacy (non-zip, pre-1.6) format cannot be checked
    without loading them and pass.

    Args:
        path (str): A local checkpoint file.
        verify_crc (bool): Also read every member and check its CRC
            (catches zero-filled or damaged data, costs one read of the
            file). Defaults to True.

    Raises:
        IncompleteCheckpointError: Naming the file and what is wrong.
        FileNotFoundError: ``path`` does not exist.
    """
    size = osp.getsize(path)
    with open(path, 'rb') as f:
        head = f.read(len(_ZIP_MAGIC))
    problem = None
    if size == 0:
        problem = 'is empty'
    elif size < len(_ZIP_MAGIC) and _ZIP_MAGIC.startswith(head):
        problem = f'ends after {size} bytes'
    elif head == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip() if verify_crc else None
            if bad is not None:
                problem = f'has a damaged member ({bad})'
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            problem = f'is truncated or damaged ({error})'
    if problem is not None:
        raise IncompleteCheckpointError(
            f'Checkpoint {path} {problem} ({size} bytes): it was probably '
            'being written when its run was killed. Use an earlier '
            'checkpoint of the run, or delete this file.')


def _is_complete(path: str) -> bool:
    try:
        check_checkpoint_complete(path)
    except (IncompleteCheckpointError, OSError) as error:
        print_log(
            f'Not resuming from {path}: {error}', logger='current',
            level=30)  # WARNING
        return False
    return True


def _step_checkpoints(folder: str) -> List[str]:
    """``epoch_N.pth``/``iter_N.pth`` in ``folder``, highest N first."""
    found = []
    for name in os.listdir(folder):
        match = _STEP_NAME.match(name)
        if match:
            found.append((int(match.group(2)), name))
    return [osp.join(folder, name) for _, name in sorted(found, reverse=True)]


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (auto) should continue from.

    The file ``work_dir/last_checkpoint`` names if it is complete;
    otherwise, with a warning, the complete ``epoch_N.pth`` (or
    ``iter_N.pth``) with the highest N in the folder of that file (or in
    ``work_dir`` when ``last_checkpoint`` is empty or names no file).

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str | None: A complete checkpoint, or None when ``last_checkpoint``
        does not exist (a new run) or no complete checkpoint is left.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        last = f.read().strip()
    if last and osp.isfile(last) and _is_complete(last):
        return last
    folder = osp.dirname(last) if last and osp.isdir(
        osp.dirname(last)) else work_dir
    for path in _step_checkpoints(folder):
        if path != last and _is_complete(path):
            print_log(
                f'last_checkpoint names {last or "nothing"}, which cannot '
                f'be resumed from; resuming from {path} instead.',
                logger='current',
                level=30)
            return path
    print_log(
        f'No complete checkpoint in {folder}: training starts over.',
        logger='current',
        level=30)
    return None
