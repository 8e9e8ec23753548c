"""ChannelsLastBackboneHook: NHWC backbone input, NCHW maps for the neck,
the same results, undone after training."""
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmengine.model import BaseModule

from gcnet_plugin.engine import ChannelsLastBackboneHook
from gcnet_plugin.models.random_weights import randomize_weights_


class Detector(BaseModule):
    """A backbone and a record of the layout the backbone's first conv
    saw."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet(
            depth=50,
            base_channels=8,
            plugins=[
                dict(
                    cfg=dict(type='ContextBlock', ratio=1 / 4),
                    stages=(False, True, True, True),
                    position='after_conv3')
            ])
        self.seen = []
        self.backbone.conv1.register_forward_pre_hook(
            lambda m, args: self.seen.append(args[0].is_contiguous(
                memory_format=torch.channels_last)))


def random_detector() -> Detector:
    """A seeded Detector with random weights, in training mode."""
    torch.manual_seed(0)
    model = Detector()
    randomize_weights_(model.backbone)
    return model.train()


def test_backbone_runs_nhwc_and_returns_nchw(fake_runner):
    model = random_detector()
    x = torch.randn(2, 3, 64, 64)

    def run():
        xi = x.clone().requires_grad_()
        outs = model.backbone(xi)
        sum(o.square().sum() for o in outs).backward()
        return outs, xi.grad, model.backbone.conv1.weight.grad.clone()

    ref = run()
    hook = ChannelsLastBackboneHook()
    runner = fake_runner(model=model)
    hook.before_train(runner)
    model.backbone.zero_grad()
    outs, grad, wgrad = run()
    assert model.seen == [False, True]
    # NCHW for the neck: mmcv's CPU RoIAlign reads its input as NCHW
    assert all(o.is_contiguous() for o in outs)
    for ours, theirs in zip([*outs, grad, wgrad], [*ref[0], ref[1], ref[2]]):
        scale = max(1.0, theirs.abs().max().item())
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * scale)
    # the weights keep their layout (checkpoints and optimizer state)
    assert model.backbone.conv1.weight.is_contiguous()

    hook.after_train(runner)
    model.backbone(x)
    assert model.seen == [False, True, False]


def test_model_without_backbone_is_refused(fake_runner):
    hook = ChannelsLastBackboneHook()
    with pytest.raises(ValueError, match='Linear.*remove it'):
        hook.before_train(fake_runner(model=torch.nn.Linear(2, 2)))


def test_maps_stay_nhwc_without_nchw_outputs(fake_runner):
    model = random_detector()
    x = torch.randn(2, 3, 64, 64)
    ref = model.backbone(x)
    hook = ChannelsLastBackboneHook(nchw_outputs=False)
    runner = fake_runner(model=model)
    hook.before_train(runner)
    outs = model.backbone(x)
    assert all(
        o.is_contiguous(
            memory_format=torch.channels_last) and not o.is_contiguous()
        for o in outs)
    for ours, theirs in zip(outs, ref):
        scale = max(1.0, theirs.abs().max().item())
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * scale)
    hook.after_train(runner)
    assert all(o.is_contiguous() for o in model.backbone(x))


def test_nhwc_maps_are_refused_with_mmcv_roi_align(fake_runner):
    from mmcv.ops import RoIAlign
    model = Detector()
    model.roi_layer = RoIAlign(7, 0.25)
    hook = ChannelsLastBackboneHook(nchw_outputs=False)
    with pytest.raises(ValueError, match='roi_layer.*SparseRoIAlign'):
        hook.before_train(fake_runner(model=model))
    # NCHW maps are fine with it
    ChannelsLastBackboneHook().before_train(fake_runner(model=model))
