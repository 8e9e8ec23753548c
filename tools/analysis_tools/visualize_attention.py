"""Figure 1/2 of GCNet: attention maps of a trained block over an image.

For a NonLocal block: the image with query points (red dots) and, for each
point, the attention of that query position over the whole image. For a
context (GC/SNL) block with attention pooling: its single, query-independent
attention map. See :mod:`gcnet_plugin.analysis.attention_maps`.

Example::

    python tools/analysis_tools/visualize_attention.py CONFIG CHECKPOINT \\
        demo.jpg other.jpg --num-points 3 --seed 0 --out-dir work_dirs/att
    python tools/analysis_tools/visualize_attention.py CONFIG CHECKPOINT \\
        demo.jpg --points 120,80 300,200 \\
        --block backbone.layer4.2.context_block

Writes ``<out-dir>/<image stem>_<block>.png`` per image.
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmcv import imread
from mmdet.apis import init_detector
from mmengine.config import Config, DictAction

from gcnet_plugin.analysis.attention_maps import (Point, attention_maps,
                                                  attention_of, choose_block,
                                                  draw, image_pipeline,
                                                  random_points)


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


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = init_detector(cfg, args.checkpoint, device=args.device).eval()
    pipeline = image_pipeline(cfg)
    try:
        block = choose_block(model, args.block)
    except ValueError as e:  # no such block: the message lists them
        raise SystemExit(str(e))
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)

    for image_path in args.images:
        image = imread(image_path, channel_order='rgb')
        height, width = image.shape[:2]
        att, feat_size, meta = attention_of(model, pipeline, block, image_path)
        points = args.points or random_points(rng, args.num_points, height,
                                              width)
        maps, points, cells = attention_maps(att, feat_size, meta,
                                             (height, width), points)
        titles = ['global attention'] if not cells else []
        for k, ((x, y), (row, col)) in enumerate(zip(points, cells), 1):
            titles.append(f'query {k} ({x:.0f}, {y:.0f}) -> cell '
                          f'({row}, {col})')
            print(f'{image_path}: point {k} (x={x:.0f}, y={y:.0f}) -> '
                  f'feature cell (row={row}, col={col}) of {feat_size}')
        stem = osp.splitext(osp.basename(image_path))[0]
        out = osp.join(args.out_dir, f'{stem}_{block}.png')
        draw(image, maps, points, titles, args.alpha, out)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
