"""Figure 1/2 of GCNet: attention maps of a trained block over an image.

For a NonLocal block: the image with query points (red dots) and, for each
point, the attention of that query position over the whole image. For a
context (GC/SNL) block with attention pooling: its single, query-independent
attention map (softmax of W_k x). Images go through the config's test
pipeline (resize, normalise, pad), and points and maps are mapped between
the original image and the feature map with that geometry.

Example::

    python tools/analysis_tools/visualize_attention.py CONFIG CHECKPOINT \\
        demo.jpg other.jpg --num-points 3 --seed 0 --out-dir work_dirs/att
    python tools/analysis_tools/visualize_attention.py CONFIG CHECKPOINT \\
        demo.jpg --points 120,80 300,200 \\
        --block backbone.layer4.2.context_block

Writes ``<out-dir>/<image stem>_<block>.png`` per image.
"""
import argparse
import copy
import os
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction

from gcnet_plugin.analysis.attention_recorder import (AttentionRecorder,
                                                      block_kind, find_blocks)
from gcnet_plugin.analysis.feature_geometry import (feature_to_image,
                                                    image_to_feature)

Point = Tuple[float, float]


def parse_point(text: str) -> Point:
    try:
        x, y = (float(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'a point is "x,y" in image pixels, got {text!r}')
    return x, y


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw non-local / global-context attention maps')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument(
        '--points',
        nargs='+',
        type=parse_point,
        default=None,
        help='query points "x,y" in original image pixels (non-local)')
    parser.add_argument(
        '--num-points',
        type=int,
        default=3,
        help='random query points per image when --points is not given')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--block',
        default=None,
        help='module name of the block (default: the first non-local '
        'block, else the first context block with attention pooling)')
    parser.add_argument('--out-dir', default='work_dirs/attention_maps')
    parser.add_argument(
        '--alpha', type=float, default=0.5, help='heatmap opacity')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def test_pipeline(cfg: Config):
    """The config's test pipeline without annotation loading."""
    from mmcv.transforms import Compose
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    pipeline = [
        t for t in pipeline if not t['type'].endswith('LoadAnnotations')
    ]
    if not pipeline[0]['type'].endswith('LoadImageFromFile'):
        raise ValueError(f'the test pipeline should start with '
                         f'LoadImageFromFile, got {pipeline[0]["type"]}')
    return Compose(pipeline)


def choose_block(model: torch.nn.Module, name: str = None) -> str:
    blocks = find_blocks(model)
    if name is not None:
        if name not in blocks:
            raise SystemExit(f'no block named {name!r}; blocks: '
                             f'{sorted(blocks)}')
        return name
    for kind in ('nonlocal', 'context'):
        for block_name, block in blocks.items():
            if block_kind(block) != kind:
                continue
            if kind == 'context' and block.pooling_type != 'att':
                continue
            return block_name
    raise SystemExit('the model has no non-local block and no context '
                     'block with attention pooling')


def random_points(rng: np.random.Generator, num: int, height: int,
                  width: int) -> List[Point]:
    xs = rng.integers(0, width, size=num)
    ys = rng.integers(0, height, size=num)
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


@torch.no_grad()
def attention_of(model: torch.nn.Module, pipeline, block: str,
                 image: str) -> Tuple[torch.Tensor, Tuple[int, int], dict]:
    """Attention of ``block`` for one image, its feature size and the
    sample's metainfo."""
    packed = pipeline(dict(img_path=image, img_id=0))
    data = dict(
        inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    data = model.data_preprocessor(data, False)
    with AttentionRecorder(model, names=[block]) as recorder:
        model.extract_feat(data['inputs'])
        record = recorder.records[block]
    if record.attention is None:
        raise SystemExit(f'block {block} records no attention (average '
                         f'pooling?)')
    feat_size = tuple(record.inputs.shape[-2:])
    return record.attention[0].cpu(
    ), feat_size, data['data_samples'][0].metainfo


def draw(image: np.ndarray, maps: Sequence[np.ndarray],
         points: Sequence[Point], titles: Sequence[str], alpha: float,
         path: str) -> None:
    """Image with red points, then one heatmap overlay per map."""
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


def main() -> None:
    args = parse_args()
    from mmcv import imread
    from mmdet.apis import init_detector

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = init_detector(cfg, args.checkpoint, device=args.device)
    model.eval()
    pipeline = test_pipeline(cfg)
    block = choose_block(model, args.block)
    is_nl = block_kind(find_blocks(model)[block]) == 'nonlocal'
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)

    for image_path in args.images:
        image = imread(image_path, channel_order='rgb')
        height, width = image.shape[:2]
        att, feat_size, meta = attention_of(model, pipeline, block, image_path)
        geometry = (meta['batch_input_shape'], meta['img_shape'], (height,
                                                                   width))
        if is_nl:
            points = args.points or random_points(rng, args.num_points, height,
                                                  width)
            points = [(min(max(x, 0), width - 1), min(max(y, 0), height - 1))
                      for x, y in points]
            cells = image_to_feature(points, meta['scale_factor'],
                                     meta['batch_input_shape'], feat_size,
                                     meta['img_shape'])
            maps, titles = [], []
            for k, ((x, y), (row, col)) in enumerate(
                    zip(points, cells), start=1):
                # [Np] -> [H, W]: attention of query (row, col) over keys
                query = att[row * feat_size[1] + col].view(feat_size)
                maps.append(feature_to_image(query, *geometry))
                titles.append(f'query {k} ({x:.0f}, {y:.0f}) -> cell '
                              f'({row}, {col})')
                print(f'{image_path}: point {k} (x={x:.0f}, y={y:.0f}) -> '
                      f'feature cell (row={row}, col={col}) of {feat_size}')
        else:
            points = []
            maps = [feature_to_image(att.view(feat_size), *geometry)]
            titles = ['global attention']
        stem = osp.splitext(osp.basename(image_path))[0]
        out = osp.join(args.out_dir, f'{stem}_{block}.png')
        draw(image, maps, points, titles, args.alpha, out)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
