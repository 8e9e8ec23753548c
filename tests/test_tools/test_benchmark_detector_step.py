"""tools/analysis_tools/benchmark_detector_step.py on a CPU: the whole
Mask R-CNN training step of two configs on one small image."""
import json

import pytest
import torch

from gcnet_plugin.profiling.detector_step import (COCO_TRAIN_IMAGES,
                                                  build_step, coco_hours,
                                                  synthetic_batch,
                                                  variant_config)


def test_command_line_times_the_variants(tmp_path, run_tool):
    out = tmp_path / 'step.json'
    printed = run_tool('analysis_tools/benchmark_detector_step.py', '--device',
                       'cpu', '--norm', 'BN', '--variants', 'baseline',
                       'gc_r16', '--images', '1', '--shape', '64', '96',
                       '--repeats', '1', '--warmup', '0', '--json', out)
    res = json.loads(out.read_text())
    assert res['env']['norm'] == 'BN' and res['env']['shape'] == [64, 96]
    rows = res['results']
    assert list(rows) == ['baseline', 'gc_r16']
    assert rows['baseline']['overhead_pct'] == 0
    for row in rows.values():
        lo, hi = row['ms_min_max']
        assert lo <= row['ms'] <= hi
        assert row['images_per_s'] == pytest.approx(1e3 / row['ms'])
        assert row['peak_step_mb'] is None  # CUDA only
    # the 13 GC r16 blocks' weights
    assert rows['gc_r16']['resident_mb'] > rows['baseline']['resident_mb']
    assert [line.split()[0]
            for line in printed.splitlines()[-3:-1]] == ['baseline', 'gc_r16']


def test_amp_needs_a_gpu(run_tool):
    with pytest.raises(AssertionError, match='AmpOptimWrapper needs a GPU'):
        run_tool('analysis_tools/benchmark_detector_step.py', '--device',
                 'cpu', '--amp')


def test_mmcv_variant_uses_mmcv_block():
    from mmcv.cnn import ContextBlock as MMCVContextBlock
    cfg = variant_config('mmcv_gc_r16', norm='BN')
    plugin = cfg.model.backbone.plugins[0]
    assert plugin.cfg == dict(type=MMCVContextBlock, ratio=1. / 16)
    assert cfg.model.backbone.init_cfg is None  # nothing to download
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert variant_config('gc_r16').model.backbone.norm_cfg.type == 'SyncBN'


def test_reset_puts_back_weights_and_momentum():
    step = build_step('baseline', 'cpu', norm='BN')
    batch = synthetic_batch(1, (64, 96), boxes=2)
    step.step(batch)
    step.keep()
    kept = {k: v.clone() for k, v in step.model.state_dict().items()}
    step.step(batch)
    changed = [
        k for k, v in step.model.state_dict().items()
        if not torch.equal(v, kept[k])
    ]
    assert changed  # SGD moved the weights
    step.reset()
    for k, v in step.model.state_dict().items():
        assert torch.equal(v, kept[k]), k


def test_coco_hours():
    assert coco_hours(1.0, gpus=1, epochs=1) == COCO_TRAIN_IMAGES / 3600
    assert coco_hours(6.0) == pytest.approx(12 * COCO_TRAIN_IMAGES / 48 / 3600)
