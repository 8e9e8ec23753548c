"""setup_training: what it changes in a training config."""
import pytest
import torch

from gcnet_plugin.engine.checkpoint_files import IncompleteCheckpointError
from gcnet_plugin.engine.exact_resume_hook import (CHECKPOINT_KEY,
                                                   ExactResumeHook)
from gcnet_plugin.engine.training_setup import (DATALOADERS, setup_testing,
                                                setup_training,
                                                use_orphan_safe_workers)

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


@pytest.fixture
def cfg(load_config, tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', str(torch.get_num_threads()))
    config = load_config(QUICKSTART)
    config.work_dir = str(tmp_path)
    return config


def test_hooks_and_worker_init_are_switched_on(cfg):
    setup_training(cfg)
    setup_training(cfg)  # idempotent
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    types = [hook['type'] for hook in cfg.custom_hooks]
    assert types.count('ExactResumeHook') == 1
    assert types.count('SignalStopHook') == 1
    assert types.count('CpuThreadsHook') == 1
    for key in DATALOADERS:
        assert cfg[key].worker_init_fn == dict(type='orphan_safe_worker_init')


def test_a_users_worker_init_is_kept(cfg):
    cfg.train_dataloader.worker_init_fn = dict(type='mine')
    setup_training(cfg)
    assert cfg.train_dataloader.worker_init_fn == dict(type='mine')


def test_auto_resume_takes_the_newest_complete_checkpoint(cfg, tmp_path):
    torch.save(dict(meta=dict(epoch=1)), tmp_path / 'epoch_1.pth')
    (tmp_path / 'epoch_2.pth').write_bytes(b'PK\x03\x04cut')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    cfg.resume, cfg.load_from = True, None
    setup_training(cfg)
    assert cfg.resume and cfg.load_from == str(tmp_path / 'epoch_1.pth')


def test_resume_from_a_truncated_path_is_refused_by_name(cfg, tmp_path):
    (tmp_path / 'epoch_3.pth').write_bytes(b'PK\x03\x04cut')
    cfg.resume, cfg.load_from = True, str(tmp_path / 'epoch_3.pth')
    with pytest.raises(IncompleteCheckpointError, match='epoch_3.pth'):
        setup_training(cfg)


def test_auto_resume_starts_over_when_nothing_is_complete(cfg, tmp_path):
    (tmp_path / 'epoch_1.pth').write_bytes(b'PK\x03\x04cut')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    cfg.resume, cfg.load_from = True, None
    setup_training(cfg)
    assert not cfg.resume and cfg.load_from is None


@pytest.fixture
def runner(fake_runner):
    """What ExactResumeHook reads of a Runner when it checks a resume."""
    return fake_runner(_resume=True, _load_from='w/epoch_1.pth')


@pytest.mark.parametrize('stored,message', [
    (None, 'has no random-number states'),
    (dict(version=1, ranks=[{}, {}]), 'was written by 2 processes'),
])
def test_resume_without_usable_states_warns(stored, message, runner):
    hook = ExactResumeHook()
    checkpoint = {} if stored is None else {CHECKPOINT_KEY: stored}
    hook.after_load_checkpoint(runner, checkpoint)
    hook._check_resumed_states(runner)
    [text] = runner.logger.warnings
    assert 'w/epoch_1.pth' in text and message in text
    assert 'not bit-identically' in text
    assert hook._resumed_states is None


def test_load_from_is_not_a_resume(runner):
    runner._resume = False
    hook = ExactResumeHook()
    hook.after_load_checkpoint(runner, {CHECKPOINT_KEY: dict(version=1)})
    assert hook._resumed_states is None


def test_test_runs_get_worker_init_and_the_thread_split(cfg):
    setup_testing(cfg)
    setup_testing(cfg)  # idempotent
    types = [hook['type'] for hook in cfg.custom_hooks]
    assert types.count('CpuThreadsHook') == 1
    assert 'ExactResumeHook' not in types
    for key in DATALOADERS:
        assert cfg[key].worker_init_fn == dict(type='orphan_safe_worker_init')


def test_disable_subprocess_warning_moves_into_the_worker_init(cfg):
    """mmengine pops this key only for its own worker init; left in the
    dataloader config it would reach DataLoader() and raise."""
    cfg.train_dataloader.disable_subprocess_warning = True
    use_orphan_safe_workers(cfg)
    assert 'disable_subprocess_warning' not in cfg.train_dataloader
    assert cfg.train_dataloader.worker_init_fn == dict(
        type='orphan_safe_worker_init', disable_subprocess_warning=True)
