"""Params and FLOPs of a detector at a fixed input size, without a dataset.

The counting convention (see docs/flops.md): one FLOP is one multiply-add
(MAC), counted by mmengine's fvcore-style ``FlopAnalyzer`` on a jit trace
of ``model._forward`` (tensor mode) for one random ``H x W`` image
(default 1280 x 800, as MMDetection's tool), SyncBN reverted to BN.

- Counted: convolutions (deformable ones like dense ones), linear layers,
  matrix products (matmul/bmm/einsum, ``scaled_dot_product_attention``;
  dropped with ``count_matmul=False``), BN/LN/GN, upsampling, average
  pooling.
- Not counted: elementwise additions/multiplications (``count_add=True``
  counts additions), activations, softmax, RoIAlign, NMS, box decoding.
- RoIs: the RPN runs for real; its 1000 test-time proposals feed every
  box head and the first 100 of them every mask head (as
  ``StandardRoIHead.forward`` and mmdet 2.x's ``forward_dummy``; for
  Cascade see :func:`limit_cascade_mask_rois`). The RoI counts are
  returned.
- Params: all parameters of the model, frozen ones included.

``tools/analysis_tools/get_flops.py`` prints :func:`get_flops`;
``tools/analysis_tools/paper_report.py`` puts it in the results table.
"""
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.roi_heads import CascadeRoIHead
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import elementwise_flop_counter, get_shape
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from torch import Tensor, nn

import gcnet_plugin.models  # noqa: F401  (registers the backbones, blocks)

DEFAULT_SHAPE = (1280, 800)


def deform_conv_flop_jit(inputs: List, outputs: List) -> int:
    """MACs of mmcv's ``DeformConv2dFunction`` (a ``prim::PythonOp``).

    Counted like a dense conv of the same weight (the bilinear sampling of
    the offsets is not counted, like RoIAlign).
    """
    weight = get_shape(inputs[2])  # [C_out, C_in / groups, kh, kw]
    out = get_shape(outputs[0])  # [N, C_out, H, W]
    n, c_out, h, w = out
    return n * c_out * h * w * weight[1] * weight[2] * weight[3]


def sdpa_flop_jit(inputs: List, outputs: List) -> int:
    """MACs of ``scaled_dot_product_attention``: q k^T and attn v.

    fvcore/mmengine have no handle for it and would silently count 0.
    """
    q, k, v = (get_shape(x) for x in inputs[:3])  # [..., L, E], [..., S, E]
    batch = 1
    for s in q[:-2]:
        batch *= s
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def zero_flop_jit(inputs: List, outputs: List) -> int:
    """Count nothing (for operators left out of the convention)."""
    return 0


def configure(analyzer: FlopAnalyzer,
              count_matmul: bool = True,
              count_add: bool = False) -> FlopAnalyzer:
    """Set the counting convention of ``analyzer`` (see docs/flops.md)."""
    analyzer.set_op_handle(
        **{
            'prim::PythonOp.DeformConv2dFunction': deform_conv_flop_jit,
            'aten::scaled_dot_product_attention': sdpa_flop_jit,
            # average pooling written as x.mean((2, 3)), counted like
            # fvcore's adaptive_avg_pool2d: one FLOP per input element
            'aten::mean': elementwise_flop_counter(1, 0)
        })
    if not count_matmul:  # a None handle would not override the default
        analyzer.set_op_handle(
            **{
                op: zero_flop_jit
                for op in ('aten::matmul', 'aten::bmm', 'aten::einsum',
                           'aten::scaled_dot_product_attention')
            })
    if count_add:
        analyzer.set_op_handle(
            **{
                # one FLOP per output element
                'aten::add': elementwise_flop_counter(0, 1),
                'aten::add_': elementwise_flop_counter(0, 1)
            })
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return analyzer


def build_detector(config: str,
                   cfg_options: Optional[Dict] = None) -> nn.Module:
    """Build the detector of ``config`` in eval mode, SyncBN reverted."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)  # no init_weights: nothing downloaded
    return revert_sync_batchnorm(model).eval()


def fake_inputs(model: nn.Module,
                shape: Sequence[int],
                seed: int = 0) -> Tuple[Tensor, List[DetDataSample]]:
    """One random ``H x W`` image and its data sample, preprocessed.

    Shape:
        inputs: ``[1, 3, H', W']``, ``H x W`` padded as the model's data
        preprocessor pads.
    """
    h, w = shape
    gen = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
    sample = DetDataSample(
        metainfo=dict(
            img_id=0,
            img_shape=(h, w),
            ori_shape=(h, w),
            scale_factor=(1., 1.)))
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=[sample]), False)
    return data['inputs'], data['data_samples']


def limit_cascade_mask_rois(model: nn.Module, num: int = 100) -> None:
    """Run each Cascade mask head on the first ``num`` RoIs only.

    mmdet 3.x's ``CascadeRoIHead.forward`` runs the mask heads on all 1000
    proposals, unlike ``StandardRoIHead.forward`` (first 100) and mmdet
    2.x's ``forward_dummy`` of both (first 100 per stage). The outputs are
    zero-padded back to all RoIs so the rest of ``forward`` runs unchanged
    (padding costs no FLOPs).
    """
    roi_head = getattr(model, 'roi_head', None)
    if not isinstance(roi_head, CascadeRoIHead) or not roi_head.with_mask:
        return
    mask_forward = roi_head._mask_forward

    def _mask_forward(stage: int, x: tuple, rois: torch.Tensor) -> dict:
        res = mask_forward(stage, x, rois[:num])
        preds = res['mask_preds']
        pad = preds.new_zeros((len(rois) - len(preds), *preds.shape[1:]))
        res['mask_preds'] = torch.cat([preds, pad])
        return res

    roi_head._mask_forward = _mask_forward


def count_rois(model: nn.Module) -> Dict[str, List[int]]:
    """Hook the RoI heads to record how many RoIs each one sees."""
    seen = {'bbox': [], 'mask': []}
    roi_head = getattr(model, 'roi_head', None)
    for kind in ('bbox', 'mask'):
        heads = getattr(roi_head, f'{kind}_head', None)
        if heads is None:
            continue
        for head in heads if isinstance(heads, nn.ModuleList) else [heads]:
            head.register_forward_hook(
                lambda m, args, out, k=kind: seen[k].append(args[0].shape[0]))
    return seen


@torch.no_grad()
def analyze(
    config: str,
    shape: Sequence[int] = DEFAULT_SHAPE,
    count_matmul: bool = True,
    count_add: bool = False,
    cfg_options: Optional[Dict] = None
) -> Tuple[nn.Module, FlopAnalyzer, Dict[str, List[int]]]:
    """Build ``config``'s detector and trace one ``H x W`` image.

    Returns:
        tuple: the model, the finished ``FlopAnalyzer`` (``.total(name)``,
        ``.by_operator()``, ...) and the RoIs per RoI head.
    """
    model = build_detector(config, cfg_options)
    inputs, samples = fake_inputs(model, shape)
    model.forward = partial(model.forward, data_samples=samples, mode='tensor')
    limit_cascade_mask_rois(model)
    rois = count_rois(model)
    analyzer = configure(
        FlopAnalyzer(model, inputs=(inputs, )), count_matmul, count_add)
    analyzer.total()  # trace now, under no_grad
    return model, analyzer, {k: [int(n) for n in v] for k, v in rois.items()}


def get_flops(config: str,
              shape: Sequence[int] = DEFAULT_SHAPE,
              count_matmul: bool = True,
              count_add: bool = False,
              cfg_options: Optional[Dict] = None) -> Dict:
    """Measure ``config``'s params (M) and FLOPs (G, multiply-adds).

    Returns:
        dict: ``params_M``, ``flops_G``, ``rois`` (RoIs seen by each RoI
        head), ``by_module`` (GFLOPs of backbone, neck, heads) and
        ``by_operator`` (GFLOPs per counted operator type).
    """
    model, analyzer, rois = analyze(config, shape, count_matmul, count_add,
                                    cfg_options)
    params = sum(p.numel() for p in model.parameters())
    return dict(
        params_M=round(params / 1e6, 3),
        flops_G=round(analyzer.total() / 1e9, 3),
        rois=rois,
        by_module={
            name: round(analyzer.total(name) / 1e9, 3)
            for name, _ in model.named_children()
            if name != 'data_preprocessor'
        },
        by_operator={
            k: round(v / 1e9, 3)
            for k, v in sorted(analyzer.by_operator().items()) if v
        })


def fill_complexity(
    configs: Sequence[str],
    known: Dict[str, dict],
    shape: Sequence[int] = DEFAULT_SHAPE,
    log: Callable[[str], None] = print,
    on_measured: Optional[Callable[[Dict[str, dict]],
                                   None]] = None) -> List[str]:
    """Measure the configs missing from ``known`` with :func:`get_flops`.

    Args:
        configs (Sequence[str]): Config paths.
        known (dict): ``{config: {"params_M": .., "flops_G": ..}}``,
            updated in place; configs already in it are skipped.
        shape (Sequence[int]): Input ``(H, W)``. Default: 1280 x 800.
        log (Callable): Progress and failure lines. Default: ``print``.
        on_measured (Callable, optional): Called with ``known`` after
            each new measurement (e.g. to save it: a long run that stops
            keeps what it measured).

    Returns:
        list[str]: The configs that could not be measured (the error is
        logged; the others are still measured).
    """
    failed = []
    for config in configs:
        if config in known:
            continue
        log(f'measuring params/FLOPs of {config} ...')
        try:
            res = get_flops(config, shape)
        except Exception as e:  # noqa: BLE001  (report it, measure the rest)
            log(f'  failed: {type(e).__name__}: {e}')
            failed.append(config)
            continue
        known[config] = dict(params_M=res['params_M'], flops_G=res['flops_G'])
        log(f'  {res["params_M"]:.2f} M params, {res["flops_G"]:.1f} GFLOPs')
        if on_measured is not None:
            on_measured(known)
    return failed
