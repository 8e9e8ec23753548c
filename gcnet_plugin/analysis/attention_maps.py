"""Figures 1-2 of GCNet: a trained block's attention over an image.

For a NonLocal block: for each query point of the original image, the
attention of that query position over the whole image. For a context
(GC/SNL) block with attention pooling: its single, query-independent map
(softmax of ``W_k x``). Images go through the config's test pipeline
(resize, normalise, pad); points and maps move between the original image
and the feature map with that geometry
(:mod:`~gcnet_plugin.analysis.feature_geometry`).
``tools/analysis_tools/visualize_attention.py`` draws them.
"""
import copy
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config

from .attention_recorder import AttentionRecorder, block_kind, find_blocks
from .feature_geometry import feature_to_image, image_to_feature

Point = Tuple[float, float]
Pipeline = Callable[[dict], dict]


def image_pipeline(cfg: Config) -> Pipeline:
    """The config's test pipeline without annotation loading.

    Raises:
        ValueError: The pipeline does not start by loading the image.
    """
    from mmcv.transforms import Compose
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    pipeline = [
        t for t in pipeline if not t['type'].endswith('LoadAnnotations')
    ]
    if not pipeline[0]['type'].endswith('LoadImageFromFile'):
        raise ValueError(f'the test pipeline should start with '
                         f'LoadImageFromFile, got {pipeline[0]["type"]}')
    return Compose(pipeline)


def choose_block(model: torch.nn.Module, name: Optional[str] = None) -> str:
    """``name`` if the model has that block, else the first non-local
    block, else the first context block with attention pooling.

    Raises:
        ValueError: No such block (the error lists the blocks).
    """
    blocks = find_blocks(model)
    if name is not None:
        if name not in blocks:
            raise ValueError(f'no block named {name!r}; blocks: '
                             f'{sorted(blocks)}')
        return name
    for kind in ('nonlocal', 'context'):
        for block_name, block in blocks.items():
            if block_kind(block) != kind:
                continue
            if kind == 'context' and block.pooling_type != 'att':
                continue
            return block_name
    raise ValueError('the model has no non-local block and no context '
                     'block with attention pooling')


def random_points(rng: np.random.Generator, num: int, height: int,
                  width: int) -> List[Point]:
    """``num`` random pixels ``(x, y)`` of a ``height x width`` image."""
    xs = rng.integers(0, width, size=num)
    ys = rng.integers(0, height, size=num)
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


@torch.no_grad()
def attention_of(model: torch.nn.Module, pipeline: Pipeline, block: str,
                 image: str) -> Tuple[torch.Tensor, Tuple[int, int], dict]:
    """Attention of ``block`` for one image, its feature size and the
    sample's metainfo.

    Raises:
        ValueError: The block records no attention (average pooling).

    Shape:
        returns attention ``[Np, Np]`` (non-local) or ``[Np]`` (context),
        ``Np = H * W`` of the feature size ``(H, W)``.
    """
    packed = pipeline(dict(img_path=image, img_id=0))
    data = dict(
        inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    data = model.data_preprocessor(data, False)
    with AttentionRecorder(model, names=[block]) as recorder:
        model.extract_feat(data['inputs'])
        record = recorder.records[block]
    if record.attention is None:
        raise ValueError(f'block {block} records no attention (average '
                         f'pooling?)')
    feat_size = tuple(record.inputs.shape[-2:])
    meta = data['data_samples'][0].metainfo
    return record.attention[0].cpu(), feat_size, meta


def attention_maps(
    attention: torch.Tensor, feat_size: Tuple[int, int], meta: dict,
    ori_shape: Tuple[int, int], points: Sequence[Point]
) -> Tuple[List[np.ndarray], List[Point], List[Tuple[int, int]]]:
    """Maps on the original image: one per query point (non-local), or
    the one global map (context block, ``points`` ignored).

    Args:
        attention (Tensor): From :func:`attention_of`.
        feat_size (tuple[int, int]): Feature size ``(H, W)``.
        meta (dict): The sample's metainfo (``scale_factor``,
            ``batch_input_shape``, ``img_shape``).
        ori_shape (tuple[int, int]): Original image ``(height, width)``.
        points (Sequence[Point]): Query pixels ``(x, y)``, clamped into
            the image.

    Returns:
        tuple: the maps (``[height, width]`` float arrays), the clamped
        points and their feature cells ``(row, col)`` (both empty for a
        context block).

    Shape:
        attention: ``[Np, Np]`` or ``[Np]``.
    """
    geometry = (meta['batch_input_shape'], meta['img_shape'], ori_shape)
    if attention.dim() == 1:
        return [feature_to_image(attention.view(feat_size), *geometry)], [], []
    height, width = ori_shape
    points = [(min(max(x, 0), width - 1), min(max(y, 0), height - 1))
              for x, y in points]
    cells = image_to_feature(points, meta['scale_factor'],
                             meta['batch_input_shape'], feat_size,
                             meta['img_shape'])
    maps = []
    for row, col in cells:
        # [Np] -> [H, W]: attention of query (row, col) over the keys
        query = attention[row * feat_size[1] + col].view(feat_size)
        maps.append(feature_to_image(query, *geometry))
    return maps, points, cells


def draw(image: np.ndarray, maps: Sequence[np.ndarray],
         points: Sequence[Point], titles: Sequence[str], alpha: float,
         path: str) -> None:
    """Image with red points, then one heatmap overlay per map.

    Shape:
        image: ``[height, width, 3]`` RGB; maps: ``[height, width]``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = 1 + len(maps)
    fig, axes = plt.subplots(
        1, panels, figsize=(3.6 * panels, 3.6), squeeze=False)
    axes = axes[0]
    axes[0].imshow(image)
    for k, (x, y) in enumerate(points, start=1):
        axes[0].plot(
            x, y, 'o', color='red', markersize=7, markeredgecolor='white')
        axes[0].annotate(
            str(k), (x, y),
            color='white',
            fontsize=9,
            xytext=(5, 5),
            textcoords='offset points')
    axes[0].set_title('image')
    for k, (ax, heat, title) in enumerate(zip(axes[1:], maps, titles)):
        ax.imshow(image)
        shown = ax.imshow(heat, cmap='jet', alpha=alpha)
        if len(points) == len(maps):
            ax.plot(
                *points[k],
                'o',
                color='red',
                markersize=7,
                markeredgecolor='white')
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(title)
    for ax in axes:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
