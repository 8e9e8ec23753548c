"""user_errors: each user error is one message, no traceback, exit 2;
--debug/GCNET_DEBUG re-raise; rank 0 prints; GCNET_ERROR_DIR collects."""
import os
import subprocess

import pytest

from gcnet_plugin.cli import (EXIT_USER_ERROR, USER_ERRORS, ConfigError,
                              format_user_error, register_user_error,
                              user_errors)
from gcnet_plugin.compat import (CheckpointDownloadError,
                                 CheckpointMismatchError,
                                 CheckpointRefusedError, SyncBNError)
from gcnet_plugin.data.checks import DataCheckError
from gcnet_plugin.engine import IncompleteCheckpointError

ERRORS = [
    ConfigError('--cfg-options: \'max_epoch\' is not a key.'),
    DataCheckError('train_dataloader.dataset.data_root: data root not '
                   'found: /x/\n  Download COCO 2017.'),
    CheckpointMismatchError('ckpt.pth does not fit the model of this '
                            'config:\n3 of 9 model keys missing'),
    CheckpointRefusedError('evil.pth: Refused to load the checkpoint'),
    CheckpointDownloadError('http://x/y.pth: download failed'),
    SyncBNError('SyncBN needs CUDA: ... --cfg-options a=BN'),
    IncompleteCheckpointError('Checkpoint e.pth is truncated or damaged'),
]
RANK_VARS = ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK',
             'GCNET_ERROR_DIR', 'GCNET_DEBUG')


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in RANK_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize('error', ERRORS, ids=lambda e: type(e).__name__)
def test_one_message_and_exit_2(error, capsys):
    with pytest.raises(SystemExit) as info:
        with user_errors('tools/train.py'):
            raise error
    assert info.value.code == EXIT_USER_ERROR == 2
    out, err = capsys.readouterr()
    assert out == ''
    first = str(error).splitlines()[0]
    assert err.startswith(f'tools/train.py: error: {first}\n')
    assert err.count('error:') == 1 and 'Traceback' not in err
    assert err.rstrip().endswith('GCNET_DEBUG=1 shows the traceback)')


def test_continuation_lines_are_indented():
    text = format_user_error('t', DataCheckError('a: b\n  fix it\nmore'))
    assert text.splitlines()[:3] == ['t: error: a: b', '  fix it', '  more']


def test_other_errors_pass_through():
    with pytest.raises(KeyError):
        with user_errors('t'):
            raise KeyError('not a user error')


def test_debug_reraises(monkeypatch):
    with pytest.raises(ConfigError):
        with user_errors('t', debug=True):
            raise ConfigError('x')
    monkeypatch.setenv('GCNET_DEBUG', '1')
    with pytest.raises(ConfigError):
        with user_errors('t'):
            raise ConfigError('x')


@pytest.mark.parametrize('var', ['RANK', 'SLURM_PROCID'])
def test_other_ranks_are_silent(var, monkeypatch, capsys):
    monkeypatch.setenv(var, '1')
    with pytest.raises(SystemExit):
        with user_errors('t'):
            raise ConfigError('x')
    assert capsys.readouterr() == ('', '')


def test_error_dir_collects_the_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv('GCNET_ERROR_DIR', str(tmp_path))
    monkeypatch.setenv('RANK', '3')
    with pytest.raises(SystemExit):
        with user_errors('t'):
            raise ConfigError('x')
    assert capsys.readouterr() == ('', '')
    assert os.listdir(tmp_path) == ['3']
    assert (tmp_path / '3').read_text().startswith('t: error: x\n')


def test_register_user_error(capsys):

    class MyError(RuntimeError):
        pass

    try:
        assert register_user_error(MyError) is MyError
        with pytest.raises(SystemExit):
            with user_errors('t'):
                raise MyError('mine')
        assert 't: error: mine' in capsys.readouterr().err
    finally:
        USER_ERRORS.remove(MyError)


GATE = """
source gcnet_plugin/cli/launch.sh
launcher() {
  echo 'log line'; echo 'a warning' >&2; sleep 0.5
  echo 'second rank' > "$GCNET_ERROR_DIR/1"
  echo 'first rank' > "$GCNET_ERROR_DIR/0"
  echo 'torchrun failure report' >&2; echo 'more log'
  return 1
}
run_reporting_errors launcher; echo "status $?" >&2
"""


def test_launcher_gate_prints_the_lowest_rank_last(repo_root):
    """The scripts' wrapper: stderr held back after the first message."""
    result = subprocess.run(['bash', '-c', GATE],
                            cwd=repo_root,
                            capture_output=True,
                            text=True)
    assert result.stdout == 'log line\nmore log\n'
    assert result.stderr == 'a warning\nfirst rank\nstatus 2\n'


def test_launcher_gate_passes_a_plain_failure(repo_root):
    script = ('source gcnet_plugin/cli/launch.sh; run_reporting_errors'
              ' bash -c "echo oops >&2; exit 3"; echo "status $?" >&2')
    result = subprocess.run(['bash', '-c', script],
                            cwd=repo_root,
                            capture_output=True,
                            text=True)
    assert result.stderr == 'oops\nstatus 3\n'
