"""Truncated checkpoints are recognised and never picked for --resume."""
import pytest
import torch

from gcnet_plugin.engine import checkpoint_files
from gcnet_plugin.engine.checkpoint_files import (IncompleteCheckpointError,
                                                  check_checkpoint_complete,
                                                  find_resumable_checkpoint)


def _save(path, value: float) -> str:
    torch.save(dict(state_dict=dict(w=torch.full((256, ), value))), path)
    return str(path)


def _truncate(path: str) -> None:
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def _point_last_checkpoint(work_dir, path: str) -> None:
    (work_dir / 'last_checkpoint').write_text(path)


def test_complete_file_passes_and_truncated_one_is_named(tmp_path):
    path = _save(tmp_path / 'epoch_1.pth', 1.0)
    check_checkpoint_complete(path)
    _truncate(path)
    with pytest.raises(IncompleteCheckpointError, match='epoch_1.pth'):
        check_checkpoint_complete(path)
    (tmp_path / 'empty.pth').write_bytes(b'')
    with pytest.raises(IncompleteCheckpointError, match='is empty'):
        check_checkpoint_complete(str(tmp_path / 'empty.pth'))
    (tmp_path / 'start.pth').write_bytes(b'PK')  # cut inside the zip magic
    with pytest.raises(IncompleteCheckpointError, match='after 2 bytes'):
        check_checkpoint_complete(str(tmp_path / 'start.pth'))


def test_damaged_data_fails_the_crc_check(tmp_path):
    path = _save(tmp_path / 'epoch_1.pth', 1.0)
    with open(path, 'r+b') as f:  # zeros where the tensor's bytes are
        data = f.read()
        f.seek(data.index(torch.full((256, ), 1.0).numpy().tobytes()))
        f.write(b'\0' * 64)
    with pytest.raises(IncompleteCheckpointError, match='damaged'):
        check_checkpoint_complete(path)


def test_auto_resume_skips_a_truncated_last_checkpoint(tmp_path, monkeypatch):
    # print_log writes to the current MMLogger's stream when an earlier test
    # made one, so the lines are collected where they are logged
    lines = []
    monkeypatch.setattr(checkpoint_files, 'print_log',
                        lambda line, **kwargs: lines.append(line))
    _save(tmp_path / 'epoch_1.pth', 1.0)
    _save(tmp_path / 'epoch_2.pth', 2.0)
    third = _save(tmp_path / 'epoch_3.pth', 3.0)
    _point_last_checkpoint(tmp_path, third)
    assert find_resumable_checkpoint(str(tmp_path)) == third
    _truncate(third)
    found = find_resumable_checkpoint(str(tmp_path))
    assert found == str(tmp_path / 'epoch_2.pth')
    out = '\n'.join(lines)
    assert 'Not resuming from' in out and 'epoch_3.pth' in out
    assert 'resuming from ' + found + ' instead' in out


def test_auto_resume_without_a_complete_checkpoint(tmp_path):
    assert find_resumable_checkpoint(str(tmp_path)) is None  # new run
    only = _save(tmp_path / 'epoch_1.pth', 1.0)
    _truncate(only)
    _point_last_checkpoint(tmp_path, only)
    assert find_resumable_checkpoint(str(tmp_path)) is None
    # An empty last_checkpoint (killed while mmengine rewrote it in place)
    # falls back to the folder's checkpoints.
    good = _save(tmp_path / 'epoch_2.pth', 2.0)
    _point_last_checkpoint(tmp_path, '')
    assert find_resumable_checkpoint(str(tmp_path)) == good
