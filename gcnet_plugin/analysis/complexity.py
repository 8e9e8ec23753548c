"""Params and FLOPs of a model at a fixed input size, without a dataset.

The model is the config's: a detector (``default_scope='mmdet'``), an
image classifier (``'mmpretrain'``) or an action recognizer
(``'mmaction'``). The counting convention (see docs/flops.md): one FLOP is
one multiply-add (MAC), counted by mmengine's fvcore-style
``FlopAnalyzer`` on a jit trace of the model's tensor-mode forward for one
random input, SyncBN reverted to BN. The input (:data:`DEFAULT_SHAPES`):

- detector: one ``H x W`` image (default 1280 x 800, as MMDetection's
  tool), through ``model._forward`` (RPN, box and mask heads);
- classifier: one ``H x W`` image (default 224 x 224), through backbone,
  neck and head (the logits);
- recognizer: one clip of ``T x H x W`` frames (default 8 x 224 x 224,
  tensor ``[1, 1, 3, T, H, W]``), through backbone and ``cls_head``.

- Counted: convolutions (deformable ones like dense ones), linear layers,
  matrix products (matmul/bmm/einsum, ``scaled_dot_product_attention``;
  dropped with ``count_matmul=False``), BN/LN/GN (BN dropped with
  ``count_bn=False``: folded into the preceding convolution, as the
  paper's ImageNet counts, docs/imagenet.md), upsampling, average pooling.
- Not counted: elementwise additions/multiplications (``count_add=True``
  counts additions), activations, softmax, RoIAlign, NMS, box decoding.
- RoIs (detectors): the RPN runs for real; its 1000 test-time proposals
  feed every box head and the first 100 of them every mask head (as
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
from mmdet.structures import DetDataSample
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import elementwise_flop_counter, get_shape
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from torch import Tensor, nn

import gcnet_plugin.models  # noqa: F401  (registers the backbones, blocks)

# The input each toolbox's models get by default, keyed by the config's
# default_scope: (H, W) for images, (T, H, W) for a clip.
DEFAULT_SHAPES: Dict[str, Tuple[int, ...]] = {
    'mmdet': (1280, 800),
    'mmpretrain': (224, 224),
    'mmaction': (8, 224, 224),
}
DEFAULT_SHAPE = DEFAULT_SHAPES['mmdet']
# RoIs seen by each RoI head of a detector: {'bbox': [..], 'mask': [..]}.
RoIs = Optional[Dict[str, List[int]]]


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
              count_add: bool = False,
              count_bn: bool = True) -> FlopAnalyzer:
    """Set the counting convention of ``analyzer`` (see docs/flops.md)."""
    analyzer.set_op_handle(
        **{
            'prim::PythonOp.DeformConv2dFunction': deform_conv_flop_jit,
            'aten::scaled_dot_product_attention': sdpa_flop_jit,
            # average pooling written as x.mean((2, 3)), and that of
            # clips (a recognizer's head), counted like fvcore's
            # adaptive_avg_pool2d: one FLOP per input element
            'aten::mean': elementwise_flop_counter(1, 0),
            'aten::adaptive_avg_pool3d': elementwise_flop_counter(1, 0)
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
    if not count_bn:  # eval-mode BN is an affine map a conv absorbs
        analyzer.set_op_handle(**{'aten::batch_norm': zero_flop_jit})
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return analyzer


def build_model(config: str,
                cfg_options: Optional[Dict] = None) -> Tuple[nn.Module, str]:
    """Build the model of ``config`` in eval mode, SyncBN reverted.

    Returns:
        tuple[nn.Module, str]: The model and the config's default scope
        (a key of :data:`DEFAULT_SHAPES`).

    Raises:
        ValueError: The config's ``default_scope`` is not one of
            :data:`DEFAULT_SHAPES`.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope', 'mmdet')
    if scope not in DEFAULT_SHAPES:
        raise ValueError(f'{config}: default_scope {scope!r} is not one the '
                         f'FLOP counter knows; use one of '
                         f'{sorted(DEFAULT_SHAPES)}.')
    init_default_scope(scope)
    model = MODELS.build(cfg.model)  # no init_weights: nothing downloaded
    return revert_sync_batchnorm(model).eval(), scope


def resolve_shape(shape: Optional[Sequence[int]],
                  scope: str) -> Tuple[int, ...]:
    """The input shape of a ``scope`` model: ``(H, W)`` or ``(T, H, W)``.

    Args:
        shape (Sequence[int], optional): ``None`` (the default of
            :data:`DEFAULT_SHAPES`), ``(S,)`` (an ``S x S`` image or
            frame), ``(H, W)``, or for a clip ``(T, H, W)``. A clip given
            as ``(S,)`` or ``(H, W)`` keeps the default ``T``.
        scope (str): A key of :data:`DEFAULT_SHAPES`.

    Raises:
        ValueError: ``shape`` has a length the model cannot take.
    """
    default = DEFAULT_SHAPES[scope]
    if shape is None:
        return default
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) == 2 and len(default) == 3:
        shape = (default[0], *shape)
    if len(shape) != len(default) or min(shape) < 1:
        kind = 'T H W (a clip)' if len(default) == 3 else 'H W (an image)'
        raise ValueError(f'input shape {list(shape)} does not fit a '
                         f'{scope} model: give {kind}, or one size S for '
                         'S x S.')
    return shape


def fake_inputs(model: nn.Module,
                shape: Sequence[int],
                scope: str = 'mmdet',
                seed: int = 0) -> Tuple[Tensor, Optional[list]]:
    """One random image (or clip) and its data sample, preprocessed.

    Shape:
        inputs: ``[1, 3, H', W']`` for mmdet (``H x W`` padded as the
        model's data preprocessor pads) and mmpretrain;
        ``[1, 1, 3, T, H, W]`` (batch, clips, channels, frames) for
        mmaction. The data samples are ``None`` but for mmdet.
    """
    gen = torch.Generator().manual_seed(seed)
    if scope == 'mmaction':
        size = (1, 3, *shape)  # [clips, C, T, H, W]
    else:
        size = (3, *shape)  # [C, H, W]
    img = torch.randint(0, 256, size, generator=gen, dtype=torch.uint8)
    samples = None
    if scope == 'mmdet':
        h, w = shape
        samples = [
            DetDataSample(
                metainfo=dict(
                    img_id=0,
                    img_shape=(h, w),
                    ori_shape=(h, w),
                    scale_factor=(1., 1.)))
        ]
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=samples), False)
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


def _tensor_forward(model: nn.Module, scope: str,
                    samples: Optional[list]) -> Callable:
    """The model's forward in tensor mode, up to its last layer."""
    if scope == 'mmdet':
        return partial(model.forward, data_samples=samples, mode='tensor')
    if scope == 'mmaction':  # tensor mode stops after the backbone
        return partial(model.forward, mode='tensor', stage='head')
    return partial(model.forward, mode='tensor')  # logits


@torch.no_grad()
def _trace(
        config: str, shape: Optional[Sequence[int]], count_matmul: bool,
        count_add: bool, cfg_options: Optional[Dict], count_bn: bool
) -> Tuple[nn.Module, FlopAnalyzer, RoIs, Tuple[int, ...]]:
    """:func:`analyze`, plus the input shape it resolved."""
    model, scope = build_model(config, cfg_options)
    shape = resolve_shape(shape, scope)
    inputs, samples = fake_inputs(model, shape, scope)
    model.forward = _tensor_forward(model, scope, samples)
    rois = None
    if scope == 'mmdet':
        limit_cascade_mask_rois(model)
        rois = count_rois(model)
    analyzer = configure(
        FlopAnalyzer(model, inputs=(inputs, )), count_matmul, count_add,
        count_bn)
    analyzer.total()  # trace now, under no_grad
    if rois is not None:
        rois = {k: [int(n) for n in v] for k, v in rois.items()}
    return model, analyzer, rois, shape


def analyze(config: str,
            shape: Optional[Sequence[int]] = None,
            count_matmul: bool = True,
            count_add: bool = False,
            cfg_options: Optional[Dict] = None,
            count_bn: bool = True) -> Tuple[nn.Module, FlopAnalyzer, RoIs]:
    """Build ``config``'s model and trace one input.

    Args:
        shape (Sequence[int], optional): See :func:`resolve_shape`.

    Returns:
        tuple: the model, the finished ``FlopAnalyzer`` (``.total(name)``,
        ``.by_operator()``, ...) and the RoIs per RoI head (``None`` for
        models without RoI heads: classifiers, recognizers).
    """
    return _trace(config, shape, count_matmul, count_add, cfg_options,
                  count_bn)[:3]


def get_flops(config: str,
              shape: Optional[Sequence[int]] = None,
              count_matmul: bool = True,
              count_add: bool = False,
              cfg_options: Optional[Dict] = None,
              count_bn: bool = True) -> Dict:
    """Measure ``config``'s params (M) and FLOPs (G, multiply-adds).

    Args:
        config (str): A detector, classifier or recognizer config.
        shape (Sequence[int], optional): ``(H, W)``, ``(T, H, W)`` for a
            clip, or ``None`` for the default of the config's toolbox
            (:data:`DEFAULT_SHAPES`); see :func:`resolve_shape`.
        count_matmul, count_add, count_bn (bool): The convention switches
            of :func:`configure`.
        cfg_options (dict, optional): Config overrides.

    Returns:
        dict: ``params_M``, ``flops_G``, ``shape`` (the input: ``[H, W]``
        or ``[T, H, W]``), ``rois`` (RoIs seen by each RoI head; ``None``
        without RoI heads), ``by_module`` (GFLOPs of each top-level part:
        backbone, neck, heads) and ``by_operator`` (GFLOPs per counted
        operator type).
    """
    model, analyzer, rois, shape = _trace(config, shape, count_matmul,
                                          count_add, cfg_options, count_bn)
    params = sum(p.numel() for p in model.parameters())
    return dict(
        params_M=round(params / 1e6, 3),
        flops_G=round(analyzer.total() / 1e9, 3),
        shape=list(shape),
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
    shape: Optional[Sequence[int]] = None,
    log: Callable[[str], None] = print,
    on_measured: Optional[Callable[[Dict[str, dict]],
                                   None]] = None) -> List[str]:
    """Measure the configs missing from ``known`` with :func:`get_flops`.

    Args:
        configs (Sequence[str]): Config paths.
        known (dict): ``{config: {"params_M": .., "flops_G": ..}}``,
            updated in place; configs already in it are skipped.
        shape (Sequence[int], optional): The input (see
            :func:`resolve_shape`). Default: each config's toolbox's
            (1280 x 800 for detectors, 224 x 224 for classifiers).
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
