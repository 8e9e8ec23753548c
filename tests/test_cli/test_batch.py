"""The effective batch and lr: the plan's arithmetic and messages, and, on
a toy mmengine Runner, that gradient accumulation gives the update of the
large batch and that --auto-scale-lr counts the accumulated iterations."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from gcnet_plugin.cli import BatchPlan, apply_batch_plan, plan_batch
from gcnet_plugin.cli.batch import iteration_schedule_note


def test_plan_of_the_paper_setting_is_quiet():
    plan = BatchPlan(8, 2, base=16, lr=0.02)
    assert plan.effective == 16 and plan.lr_used == 0.02
    assert plan.summary() == (
        'Batch: 8 processes x 2 images = 16 images per optimizer step '
        "(the config's lr is for 16); lr 0.02.")
    assert plan.warning() is None


def test_fewer_gpus_warn_with_both_fixes():
    plan = BatchPlan(2, 2, base=16, lr=0.02)
    assert plan.effective == 4 and plan.lr_used == 0.02
    assert plan.warning() == (
        'The batch (4 images per optimizer step) is not the 16 that the '
        "config's lr 0.02 is set for, and --auto-scale-lr is not given: "
        'training with the unscaled lr. Add --auto-scale-lr (lr 0.005), or '
        'accumulate gradients to reach 16 images: --cfg-options '
        'optim_wrapper.accumulative_counts=4.')


def test_accumulation_and_auto_scale():
    plan = BatchPlan(1, 2, accumulation=4, base=16, lr=0.02, auto_scale=True)
    assert plan.effective == 8 and plan.lr_used == pytest.approx(0.01)
    assert 'x 4 accumulated iterations = 8 images' in plan.summary()
    assert 'lr 0.01 (scaled by --auto-scale-lr)' in plan.summary()
    assert plan.warning() is None  # the lr is scaled
    assert BatchPlan(2, 2, accumulation=4, base=16).warning() is None


def test_plan_reads_the_paper_config(load_config):
    cfg = load_config('configs/gcnet/mask-rcnn_r50-syncbn_fpn_1x_coco.py')
    plan = plan_batch(cfg, processes=8, auto_scale=False)
    assert (plan.per_process, plan.base, plan.lr) == (2, 16, 0.02)
    assert plan.warning() is None


class Line(BaseModel):
    """y = w x + b, squared error; no BN, so batches can be split."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)
        with torch.no_grad():
            self.fc.weight.fill_(0.5)
            self.fc.bias.zero_()

    def forward(self, inputs, targets, mode: str = 'loss'):
        return dict(loss=((self.fc(inputs).squeeze(1) - targets)**2).mean())


class Points(Dataset):

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(3, generator=g), targets=float(i))


def _train(tmp_path,
           batch_size: int,
           counts: int,
           iters: int,
           auto_scale: bool = False):
    optim_wrapper = dict(
        optimizer=dict(type='SGD', lr=0.1), accumulative_counts=counts)
    cfg = Config(
        dict(
            train_dataloader=dict(batch_size=batch_size),
            optim_wrapper=copy.deepcopy(optim_wrapper),
            # as prepare_train_cfg sets it for --auto-scale-lr: mmengine
            # would then scale the lr a second time unless the plan stops it
            auto_scale_lr=dict(enable=auto_scale, base_batch_size=8)))
    runner = Runner(
        model=Line(),
        work_dir=str(tmp_path / f'{batch_size}x{counts}{auto_scale}'),
        train_dataloader=dict(
            dataset=Points(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=batch_size,
            collate_fn=dict(type='default_collate'),
            num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=optim_wrapper,
        auto_scale_lr=cfg.auto_scale_lr,
        default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmengine',
        log_level='WARNING')
    plan = apply_batch_plan(runner, cfg, auto_scale)
    model = runner.train()
    lr = runner.optim_wrapper.optimizer.param_groups[0]['lr']
    return plan, model.fc.weight.detach().clone(), lr


def test_accumulation_equals_the_large_batch(tmp_path):
    _, big, _ = _train(tmp_path, batch_size=4, counts=1, iters=2)
    plan, small, _ = _train(tmp_path, batch_size=1, counts=4, iters=8)
    assert plan.effective == 4
    torch.testing.assert_close(small, big, rtol=1e-6, atol=1e-6)
    _, one_step, _ = _train(tmp_path, batch_size=1, counts=1, iters=8)
    assert not torch.allclose(one_step, big)  # it did change something


def test_auto_scale_counts_accumulation(tmp_path):
    # 1 process x 2 images x 2 accumulated = 4 of the base 8: lr / 2.
    plan, _, lr = _train(tmp_path, 2, 2, iters=2, auto_scale=True)
    assert plan.effective == 4 and lr == pytest.approx(0.05)
    plan, _, lr = _train(tmp_path, 2, 2, iters=2, auto_scale=False)
    assert lr == pytest.approx(0.1) and plan.warning() is not None


def test_accumulation_names_the_iteration_based_warmup(load_config):
    cfg = load_config('configs/gcnet/mask-rcnn_r50-syncbn_fpn_1x_coco.py')
    assert iteration_schedule_note(cfg, 1) is None
    note = iteration_schedule_note(cfg, 4)
    assert note.startswith('LinearLR (param_scheduler.0, 0-500) counts '
                           'iterations, not optimizer steps')
    assert note.endswith('--cfg-options param_scheduler.0.begin=0 '
                         'param_scheduler.0.end=2000')
    assert 'MultiStepLR' not in note  # by epoch: unaffected
