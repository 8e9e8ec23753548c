"""The resume command a stopped run prints."""
import pytest

from gcnet_plugin.engine.signal_stop import resume_command

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
