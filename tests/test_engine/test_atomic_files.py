"""atomic_write: the old file or the whole new one, never a partial one."""
import glob
import os

import pytest
from mmengine.fileio import get_file_backend

from gcnet_plugin.engine import atomic_files
from gcnet_plugin.engine.atomic_files import (AtomicLocalBackend, atomic_write,
                                              remove_stale_temporaries,
                                              temporary_pattern)


def test_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'sub' / 'epoch_1.pth'
    atomic_write(path, b'old')
    atomic_write(path, b'new' * 1000)
    assert path.read_bytes() == b'new' * 1000
    assert glob.glob(temporary_pattern(tmp_path / 'sub')) == []


def test_failure_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'last_checkpoint'
    atomic_write(path, 'epoch_1.pth')

    def killed(fd: int) -> None:
        raise KeyboardInterrupt  # stands for a kill between write and rename

    monkeypatch.setattr(atomic_files.os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, 'epoch_2.pth')
    assert path.read_text() == 'epoch_1.pth'
    assert glob.glob(temporary_pattern(tmp_path)) == []


def test_stale_temporaries_are_removed(tmp_path):
    stale = tmp_path / '.epoch_2.pth.abc123.partial'
    stale.write_bytes(b'PK\x03\x04half')
    keep = tmp_path / 'epoch_1.pth'
    keep.write_bytes(b'x')
    assert remove_stale_temporaries(tmp_path) == [str(stale)]
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_backend_is_registered_for_backend_args(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='local_atomic'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'data', str(tmp_path / 'a.pth'))
    backend.put_text('text', str(tmp_path / 'b.txt'))
    assert (tmp_path / 'a.pth').read_bytes() == b'data'
    assert (tmp_path / 'b.txt').read_text() == 'text'


def test_written_file_has_the_umask_mode_not_mkstemps(tmp_path):
    """Others can read a checkpoint as they could one open() wrote."""
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / 'ckpt', b'x')
    finally:
        os.umask(old)
    assert os.stat(tmp_path / 'ckpt').st_mode & 0o777 == \
        0o666 & ~atomic_files._UMASK
    assert os.stat(tmp_path / 'ckpt').st_mode & 0o044  # not mkstemp's 0600
