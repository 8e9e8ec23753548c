"""The quickstart detector's training step timed by part, side by side."""
import pytest
import torch
from mmengine.config import Config

from gcnet_plugin.profiling.detector_breakdown import (PARTS, DetectorParts,
                                                       breakdown, step_parts)


@pytest.fixture(scope='module')
def tiny_cfg(tiny_quickstart, tmp_path_factory) -> Config:
    return Config.fromfile(
        tiny_quickstart(tmp_path_factory.mktemp('breakdown'), 2, 1))


def test_parts_run_in_order_and_rows_compare_variants(tiny_cfg):
    torch.manual_seed(0)
    base = DetectorParts(tiny_cfg.copy())
    fewer = tiny_cfg.copy()
    fewer.model.train_cfg.rcnn.sampler.num = 8
    variants = {'config': base, 'rois8': DetectorParts(fewer)}
    times = step_parts(variants, repeats=1, warmup=0, clock='cpu')
    assert list(times['config']) == list(PARTS) + ['train_step']
    assert all(v[0] > 0 for v in times['config'].values())
    # the parts ran on the batch: RoIs sampled per image, at most 8
    sampled = [len(s.priors) for s in variants['rois8'].sampling]
    assert len(sampled) == 2 and max(sampled) <= 8
    assert max(len(s.priors) for s in base.sampling) > 8
    # the optimizer's steps were undone: every round timed the same model
    for name, value in base.model.state_dict().items():
        assert torch.equal(value, base.start[name]), name
    rows = breakdown(times)
    base_rows = [r for r in rows if r['variant'] == 'config']
    assert all(r['ratio'] == 1 for r in base_rows)
    total = [r for r in base_rows if r['part'] == 'sum of parts'][0]
    assert total['share'] == 1
    assert sum(r['share'] for r in base_rows
               if r['part'] in PARTS) == pytest.approx(1)


def test_channels_last_variant_is_nhwc(tiny_cfg):
    parts = DetectorParts(tiny_cfg.copy(), channels_last=True)
    parts.preprocess()
    assert parts.inputs.is_contiguous(memory_format=torch.channels_last)
    conv = parts.model.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)


def test_config_channels_last_hook_is_applied(tiny_cfg):
    """The quickstart config trains its backbone, neck and heads NHWC (its
    custom_hooks): timed the same way; without the hook, plain NCHW."""
    assert any(h['type'] == 'ChannelsLastBackboneHook'
               for h in tiny_cfg.custom_hooks)
    plain_cfg = tiny_cfg.copy()
    plain_cfg.custom_hooks = []
    for cfg, nhwc in ((tiny_cfg.copy(), True), (plain_cfg, False)):
        parts = DetectorParts(cfg)
        seen = []
        parts.model.backbone.conv1.register_forward_pre_hook(
            lambda m, args: seen.append(args[0].is_contiguous(
                memory_format=torch.channels_last)))
        parts.preprocess()
        parts.backbone()
        assert seen == [nhwc]
        # nchw_outputs=False: the maps stay NHWC for the neck
        layout = torch.channels_last if nhwc else torch.contiguous_format
        assert all(
            f.is_contiguous(memory_format=layout) and f.is_contiguous() != nhwc
            for f in parts.feats)
