"""Where a two-stage detector's training step spends its time, by part.

:func:`step_parts` splits one training step of an MMDetection Mask R-CNN
(``TwoStageDetector`` with a ``StandardRoIHead``) into parts that run
one after the other on the same batch, each forward + backward on
inputs detached from the part before it:

- ``data``: load and augment the batch's samples (the dataset pipeline:
  decode, annotations, flip, pack) and collate them;
- ``preprocess``: the model's ``data_preprocessor`` (normalise, pad);
- ``backbone``, ``neck``: forward + backward with fixed gradients;
- ``rpn``: ``rpn_head.loss_and_predict`` + backward (losses, proposals);
- ``roi_sample``: assign and sample the proposals (no gradient);
- ``bbox_head``: ``roi_head.bbox_loss`` (RoIAlign + fcs) + backward;
- ``mask_head``: ``roi_head.mask_loss`` (RoIAlign + convs + targets)
  + backward;
- ``optimizer``: gradient clipping and the optimizer's step;

and ``train_step``, the whole step (``model.train_step``) for
reference: the parts add up to about it. Several variants (config
changes) are built side by side and timed in interleaved rounds
(every variant once per round, the order
rotating), so their ratios hold on a busy
machine. ``tools/analysis_tools/benchmark_detector.py`` runs it; what
was measured: docs/quickstart.md.
"""
import copy
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import Tensor

from ..engine.channels_last import channels_last_backbone

__all__ = ['CLOCKS', 'PARTS', 'DetectorParts', 'breakdown', 'step_parts']

PARTS = ('data', 'preprocess', 'backbone', 'neck', 'rpn', 'roi_sample',
         'bbox_head', 'mask_head', 'optimizer')


def _backward(outputs: Sequence[Tensor]) -> None:
    """Backward from ``outputs`` with gradients of ones (their sum)."""
    outs = [o for o in outputs if o.requires_grad]
    torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])


def _detached(feats: Sequence[Tensor]) -> List[Tensor]:
    return [f.detach().requires_grad_() for f in feats]


def _loss_sum(losses: Dict[str, Any]) -> Tensor:
    total = 0.
    for value in losses.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, Tensor) and item.requires_grad:
                total = total + item.sum()
    return total


class DetectorParts:
    """One variant: its model, optimizer and batch, and a callable per
    part of the training step.

    Args:
        cfg (Config): A Mask R-CNN config (``model``, ``optim_wrapper``,
            ``train_dataloader``; a ``ChannelsLastBackboneHook`` in its
            ``custom_hooks`` runs the backbone NHWC, as in training).
        images (int): Images per batch. Defaults to the config's.
        channels_last (bool): NHWC input and the whole model.
        checkpoint (str, optional): Weights to load (a trained model has
            more positive RoIs, so busier RoI heads, than one at init).

    The optimizer's steps are undone after each (the weights go back to
    where they started), so every round times the same model.
    """

    def __init__(self,
                 cfg: Config,
                 images: Optional[int] = None,
                 channels_last: bool = False,
                 checkpoint: Optional[str] = None) -> None:
        from mmdet.registry import DATASETS, MODELS
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        self.channels_last = channels_last
        torch.manual_seed(0)
        self.model = MODELS.build(cfg.model)
        self.model.init_weights()
        if checkpoint is not None:
            from mmengine.runner import load_checkpoint
            load_checkpoint(self.model, checkpoint, map_location='cpu')
        self.model.train()
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        for hook in cfg.get('custom_hooks', []):
            if hook.get('type') == 'ChannelsLastBackboneHook':
                # as the config trains: NHWC backbone (and maps)
                channels_last_backbone(self.model.backbone,
                                       hook.get('nchw_outputs', True))
        self.optim = build_optim_wrapper(self.model,
                                         copy.deepcopy(cfg.optim_wrapper))
        self.start = copy.deepcopy(self.model.state_dict())
        loader = cfg.train_dataloader
        self.dataset = DATASETS.build(loader.dataset)
        self.images = images or loader.batch_size
        self.batch = self.load()
        self.inputs: Tensor = None
        self.samples: list = []
        self.feats: List[Tensor] = []
        self.fpn: List[Tensor] = []
        self.proposals: list = []
        self.sampling: list = []
        self.bbox_feats: Tensor = None

    def load(self) -> dict:
        """The first ``images`` samples of the dataset, collated."""
        return pseudo_collate([self.dataset[i] for i in range(self.images)])

    def preprocess(self) -> None:
        data = self.model.data_preprocessor(self.batch, True)
        self.inputs, self.samples = data['inputs'], data['data_samples']
        if self.channels_last:
            self.inputs = self.inputs.contiguous(
                memory_format=torch.channels_last)

    def backbone(self) -> None:
        inputs = self.inputs.detach().requires_grad_()
        outs = self.model.backbone(inputs)
        _backward(outs)
        self.feats = [o.detach() for o in outs]

    def neck(self) -> None:
        outs = self.model.neck(_detached(self.feats))
        _backward(outs)
        self.fpn = [o.detach() for o in outs]

    def rpn(self) -> None:
        model = self.model
        proposal_cfg = model.train_cfg.get('rpn_proposal', model.test_cfg.rpn)
        rpn_samples = copy.deepcopy(self.samples)
        for sample in rpn_samples:
            sample.gt_instances.labels = torch.zeros_like(
                sample.gt_instances.labels)
        losses, self.proposals = model.rpn_head.loss_and_predict(
            _detached(self.fpn), rpn_samples, proposal_cfg=proposal_cfg)
        _loss_sum(losses).backward()

    def roi_sample(self) -> None:
        head = self.model.roi_head
        self.sampling = []
        for proposals, sample in zip(self.proposals, self.samples):
            proposals = copy.copy(proposals)
            proposals.priors = proposals.pop('bboxes')
            assign = head.bbox_assigner.assign(proposals, sample.gt_instances,
                                               sample.ignored_instances)
            self.sampling.append(
                head.bbox_sampler.sample(
                    assign,
                    proposals,
                    sample.gt_instances,
                    feats=[lvl[-1][None] for lvl in self.fpn]))

    def bbox_head(self) -> None:
        results = self.model.roi_head.bbox_loss(
            _detached(self.fpn), self.sampling)
        _loss_sum(results['loss_bbox']).backward()
        self.bbox_feats = results['bbox_feats'].detach()

    def mask_head(self) -> None:
        gts = [s.gt_instances for s in self.samples]
        results = self.model.roi_head.mask_loss(
            _detached(self.fpn), self.sampling, self.bbox_feats, gts)
        _loss_sum(results['loss_mask']).backward()

    def optimizer(self) -> None:
        self.optim.step()
        self.optim.zero_grad()
        self.model.load_state_dict(self.start)

    def data(self) -> None:
        self.batch = self.load()

    def train_step(self) -> None:
        self.model.train_step(self.batch, self.optim)
        self.model.load_state_dict(self.start)

    def cases(self) -> Dict[str, Callable[[], None]]:
        """The parts in step order, then the whole step."""
        parts = {name: getattr(self, name) for name in PARTS}
        parts['train_step'] = self.train_step
        return parts


CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def step_parts(variants: Dict[str, DetectorParts],
               repeats: int,
               warmup: int = 1,
               clock: str = 'wall') -> Dict[str, Dict[str, List[float]]]:
    """Seconds of every part of every variant, ``repeats`` rounds.

    A round runs each variant's parts in step order (a part needs the
    one before it), the variants in an order that rotates by round.
    ``clock='cpu'`` counts the process's CPU seconds instead of wall
    seconds: with one thread, what the work costs whatever else the
    machine runs (threads that wait spinning count as working).

    Returns:
        dict: ``{variant: {part: [seconds per round]}}``.
    """
    names = list(variants)
    out = {v: {p: [] for p in variants[v].cases()} for v in names}
    now = CLOCKS[clock]

    def run(name: str) -> Callable[[], None]:

        def one_step() -> None:
            for part, fn in variants[name].cases().items():
                t0 = now()
                fn()
                current[name][part] = now() - t0

        return one_step

    current: Dict[str, Dict[str, float]] = {v: {} for v in names}
    for r in range(warmup + repeats):
        rot = r % len(names)
        for name in names[rot:] + names[:rot]:
            run(name)()
        if r >= warmup:
            for name in names:
                for part, sec in current[name].items():
                    out[name][part].append(sec)
    return out


def breakdown(times: Dict[str, Dict[str, List[float]]],
              base: Optional[str] = None) -> List[Dict[str, Any]]:
    """Rows ``{variant, part, ms, share, ratio}``: the median ms of each
    part, its share of the sum of the parts (``train_step`` against that
    sum), and its ratio to the same part of ``base`` (the first variant
    by default)."""
    names = list(times)
    base = base or names[0]
    rows = []
    for name in names:
        med = {p: 1e3 * statistics.median(v) for p, v in times[name].items()}
        total = sum(ms for p, ms in med.items() if p != 'train_step')
        med_base = {
            p: 1e3 * statistics.median(v)
            for p, v in times[base].items()
        }
        for part, ms in list(med.items()) + [('sum of parts', total)]:
            ref = (
                sum(v for p, v in med_base.items() if p != 'train_step')
                if part == 'sum of parts' else med_base.get(part))
            rows.append(
                dict(
                    variant=name,
                    part=part,
                    ms=ms,
                    share=ms / total if total else float('nan'),
                    ratio=ms / ref if ref else float('nan')))
    return rows
