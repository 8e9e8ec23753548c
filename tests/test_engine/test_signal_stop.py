"""SIGTERM/SIGINT stop training cleanly; the resume command they print."""
import os
import signal
import time

import pytest

from gcnet_plugin.engine.signal_stop import SignalStopHook, resume_command

# (arguments after tools/train.py, the resume command's arguments)
CASES = [
    ('c.py --work-dir w', 'c.py --work-dir w --resume'),
    ('c.py --resume w/epoch_1.pth --amp', 'c.py --amp --resume'),
    ('c.py --resume --cfg-options a=1', 'c.py --cfg-options a=1 --resume'),
    ('c.py --resume=w/epoch_1.pth', 'c.py --resume'),
]


@pytest.mark.parametrize('args,expected', CASES)
def test_resume_command_single_process(args, expected, monkeypatch):
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    argv = ['tools/train.py'] + args.split()
    assert resume_command(argv) == 'python tools/train.py ' + expected


def test_resume_command_quotes_for_the_shell(monkeypatch):
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    assert resume_command(['tools/train.py', 'my cfg.py']) == \
        "python tools/train.py 'my cfg.py' --resume"


def test_resume_command_under_torchrun(monkeypatch):
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')
    argv = [
        'tools/train.py', 'c.py', '--local-rank=0', '--launcher', 'pytorch',
        '--work-dir', 'w'
    ]
    assert resume_command(argv) == \
        'bash tools/dist_train.sh c.py 2 --work-dir w --resume'


@pytest.fixture
def runner(fake_runner, tmp_path):
    """What SignalStopHook reads of a Runner: in epoch 2 after iteration
    9, writing to tmp_path."""
    return fake_runner(work_dir=str(tmp_path), epoch=1, iter=9)


def _raise(sig: int) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(0.01)  # the handler runs between bytecodes


def test_sigint_stops_after_the_iteration_with_the_resume_line(
        runner, tmp_path):
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(checkpoint))
    hook = SignalStopHook()
    previous = signal.getsignal(signal.SIGINT)
    hook.before_train(runner)
    try:
        _raise(signal.SIGINT)  # no KeyboardInterrupt: noted only
        assert 'stopping after the current iteration' in \
            runner.logger.warnings[0]
        with pytest.raises(SystemExit) as stop:
            hook.after_train_iter(runner, batch_idx=0)
    finally:
        hook.after_train(runner)
    assert stop.value.code == 128 + signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is previous
    line = runner.logger.warnings[-1]
    assert line.startswith('Training stopped by SIGINT in epoch 2 at '
                           'iteration 10; last complete checkpoint: '
                           f'{checkpoint}; resume with: python ')
    assert line.endswith(' --resume')


def test_second_signal_stops_at_once(runner):
    hook = SignalStopHook()
    hook.before_train(runner)
    try:
        _raise(signal.SIGTERM)
        with pytest.raises(SystemExit) as stop:
            _raise(signal.SIGTERM)
    finally:
        hook.after_train(runner)
    assert stop.value.code == 128 + signal.SIGTERM
    assert 'SIGTERM (immediately)' in runner.logger.warnings[-1]
    assert 'no checkpoint was written yet' in runner.logger.warnings[-1]
