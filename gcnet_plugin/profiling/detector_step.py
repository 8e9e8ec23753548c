"""A detector's whole training step, for several configs side by side.

What a GC block costs where it is used: inside the training step of the
paper's Mask R-CNN (data preprocessing, forward, losses, backward and the
SGD step, what ``model.train_step`` does under the Runner), for the
configs of :data:`VARIANTS` built in one process and timed on the same
synthetic batch in interleaved rounds (every variant once per round, the
order rotating). After each timed step the weights, the optimizer's state
and AMP's loss scale go back to where they were, untimed, so that every
round times the same work.

The batch is MMDetection's ``demo_mm_inputs``: random uint8 images of the
given size with random boxes and bitmap masks (no COCO needed). At
initialisation the RPN proposes little that overlaps them, so the mask
head sees fewer positives than in a trained model: the step is somewhat
shorter than a real one, and a block's share of it somewhat larger.

SyncBN layers stay as the configs have them; in one process with no
process group they normalise like BN (a world of one syncs nothing).
``tools/analysis_tools/benchmark_detector_step.py`` runs it; what was
measured: docs/benchmarks.md.
"""
import copy
import os.path as osp
import statistics
from functools import partial
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from .timing import interleaved_times

__all__ = [
    'COCO_TRAIN_IMAGES', 'VARIANTS', 'build_step', 'coco_hours',
    'run_detector_steps', 'synthetic_batch', 'variant_config'
]

_COCO = 'configs/gcnet/mask-rcnn_r50-syncbn{}_fpn_1x_coco.py'
# name: (config, use mmcv's ContextBlock instead of ours)
VARIANTS: Dict[str, Tuple[str, bool]] = {
    'baseline': (_COCO.format(''), False),
    'gc_r16': ('configs/gc_r50_r16.py', False),
    'mmcv_gc_r16': ('configs/gc_r50_r16.py', True),
    'gc_r4': (_COCO.format('-gcb-r4-c3-c5'), False),
    'nl': (_COCO.format('-nl-c4b4-afteradd'), False),
}

COCO_TRAIN_IMAGES = 118287  # train2017
_REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def variant_config(name: str, norm: Optional[str] = None) -> Config:
    """The config of :data:`VARIANTS` ``name``, without pretrained
    weights (nothing to download); ``norm``: another backbone norm type
    (``'BN'`` on a CPU, where SyncBN is not meant to run)."""
    path, mmcv_block = VARIANTS[name]
    cfg = Config.fromfile(osp.join(_REPO, path))
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    if norm is not None:
        backbone.norm_cfg.type = norm
    if mmcv_block:
        from mmcv.cnn import ContextBlock as MMCVContextBlock
        for plugin in backbone.plugins:
            plugin.cfg = dict(type=MMCVContextBlock, ratio=plugin.cfg.ratio)
    return cfg


def synthetic_batch(images: int, shape: Sequence[int], boxes: int) -> dict:
    """``images`` random ``[3, H, W]`` uint8 images, ``boxes`` boxes and
    bitmap masks each, collated as the data loader hands them over."""
    from mmdet.testing import demo_mm_inputs
    batch = demo_mm_inputs(
        batch_size=images,
        image_shapes=(3, *shape),
        num_items=[boxes] * images,
        num_classes=80,
        with_mask=True)
    return dict(inputs=batch['inputs'], data_samples=batch['data_samples'])


class _Step:
    """One variant: its model and optimizer wrapper, a timed step and an
    untimed reset to the state before it."""

    def __init__(self, cfg: Config, device: str, amp: bool) -> None:
        from mmdet.registry import MODELS
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        torch.manual_seed(0)
        self.model = MODELS.build(cfg.model)
        self.model.init_weights()
        self.model.to(device).train()
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if amp:
            optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
        self.optim = build_optim_wrapper(self.model, optim_cfg)
        self.state: Optional[Tuple[dict, dict]] = None

    def step(self, batch: dict) -> None:
        self.model.train_step(batch, self.optim)

    def keep(self) -> None:
        """Remember the current weights and optimizer state."""
        self.state = (copy.deepcopy(self.model.state_dict()),
                      copy.deepcopy(self.optim.state_dict()))

    def reset(self) -> None:
        self.model.load_state_dict(self.state[0])
        self.optim.load_state_dict(copy.deepcopy(self.state[1]))

    def resident_bytes(self) -> int:
        """Weights, buffers and optimizer state (kept between steps)."""
        tensors = list(self.model.state_dict().values())
        for state in self.optim.optimizer.state.values():
            tensors += [t for t in state.values() if torch.is_tensor(t)]
        return sum(t.numel() * t.element_size() for t in tensors)


def build_step(name: str,
               device: str,
               amp: bool = False,
               norm: Optional[str] = None) -> _Step:
    """The model and optimizer of variant ``name`` on ``device``."""
    return _Step(variant_config(name, norm), device, amp)


def coco_hours(images_per_s: float, gpus: int = 8, epochs: int = 12) -> float:
    """Hours of ``epochs`` over COCO train2017 at ``images_per_s`` per GPU
    on ``gpus`` GPUs: the training steps alone, scaling perfectly (no
    data loading stalls, gradient all-reduce, SyncBN traffic or
    evaluation)."""
    return epochs * COCO_TRAIN_IMAGES / (gpus * images_per_s) / 3600


def run_detector_steps(names: Sequence[str],
                       device: str,
                       images: int = 2,
                       shape: Sequence[int] = (800, 1333),
                       amp: bool = False,
                       repeats: int = 20,
                       warmup: int = 3,
                       boxes: int = 8,
                       norm: Optional[str] = None) -> Dict:
    """Time the training step of each variant in ``names``.

    Args:
        names: Keys of :data:`VARIANTS`; the first is the reference.
        device: ``'cuda'`` or ``'cpu'``.
        images: Images per step (per GPU). Default: 2, the paper's.
        shape: ``(H, W)`` of each image (padded to 32 by the model).
        amp: mmengine's ``AmpOptimWrapper`` (fp16 autocast, dynamic loss
            scale) instead of the config's fp32 wrapper.
        repeats, warmup: Timed and untimed rounds.
        boxes: Objects per image.
        norm: Backbone norm type instead of the configs' (None: theirs).

    Returns:
        dict: per variant ``ms`` (median step), ``ms_min_max``,
        ``overhead_pct`` (median over rounds of the step's excess over the
        first variant's in the same round, in % of the latter),
        ``images_per_s``, ``coco_12ep_hours_8gpu`` (:func:`coco_hours`),
        ``peak_step_mb`` (memory a step allocates above what is resident,
        CUDA only) and ``resident_mb``.
    """
    steps = {name: build_step(name, device, amp, norm) for name in names}
    batch = synthetic_batch(images, shape, boxes)
    for step in steps.values():  # optimizer state exists after one step
        step.step(batch)
        step.keep()
    cases = {name: partial(step.step, batch) for name, step in steps.items()}
    resets = {name: step.reset for name, step in steps.items()}
    times = interleaved_times(cases, device, warmup, repeats, after=resets)
    peaks = {name: _step_peak(steps[name], batch, device) for name in names}
    base = times[names[0]]
    results = {}
    for name in names:
        ms = 1e3 * statistics.median(times[name])
        per_s = images / (ms / 1e3)
        results[name] = dict(
            ms=ms,
            ms_min_max=[1e3 * min(times[name]), 1e3 * max(times[name])],
            overhead_pct=statistics.median(
                100 * (t - t0) / t0 for t, t0 in zip(times[name], base)),
            images_per_s=per_s,
            coco_12ep_hours_8gpu=coco_hours(per_s),
            peak_step_mb=peaks[name],
            resident_mb=steps[name].resident_bytes() / 2**20)
    return results


def _step_peak(step: _Step, batch: dict, device: str) -> Optional[float]:
    """MiB one step allocates above what was allocated before it
    (CUDA); None on other devices."""
    if device != 'cuda':
        return None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step.step(batch)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - before
    step.reset()
    return peak / 2**20
