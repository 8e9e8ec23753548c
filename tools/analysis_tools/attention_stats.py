"""Table 1 of GCNet: how query-specific is a trained non-local block?

For every NonLocal block of the model (or context blocks, ``--kinds``),
over the images of the config's test dataloader, computes the averages of
section 3.2: cosine distance between the block inputs, the outputs before
fusion (``z - x``) and the attention rows, and the Jensen-Shannon divergence
between attention rows (Gaussian / Embedded Gaussian). Prints them in the
layout of Table 1 with the paper's COCO values below, and writes
``table1.csv`` and ``table1.json``.

Example::

    NAME=mask-rcnn_r50-syncbn-nl-c4b4-afteradd_fpn_1x_coco
    python tools/analysis_tools/attention_stats.py configs/gcnet/$NAME.py \\
        work_dirs/$NAME/epoch_12.pth --num-images 100

The exact JSD over all pairs of the ``Np`` positions costs ``Np ** 3 / 2``
per image; ``--max-queries K`` averages over ``K`` random query rows
against all rows instead (``K * Np ** 2``), an unbiased estimate, marked
as such in the outputs. Timings: docs/benchmarks.md. The logic:
:mod:`gcnet_plugin.analysis.table1_collection`.
"""
import argparse
import os
import os.path as osp

import torch
from mmdet.apis import init_detector
from mmengine.config import Config, DictAction

from gcnet_plugin.analysis.attention_statistics import Table1
from gcnet_plugin.analysis.table1_collection import (collect_table1,
                                                     table1_loader)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Table 1 statistics of non-local blocks (GCNet, 3.2)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--num-images', type=int, help='first N images')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='where table1.csv/json go (default: '
        'work_dirs/attention_stats/<config name>)')
    parser.add_argument(
        '--kinds',
        nargs='+',
        default=['nonlocal'],
        choices=['nonlocal', 'context'],
        help='block kinds to analyse; context blocks get input/output only')
    parser.add_argument(
        '--blocks',
        nargs='+',
        default=None,
        help='module names of the blocks (default: all of --kinds)')
    parser.add_argument(
        '--max-queries',
        type=int,
        default=None,
        help='estimate JSD from K random query rows per image (default: '
        'exact, all rows)')
    parser.add_argument(
        '--chunk-size',
        type=int,
        default=None,
        help='rows per JSD block; memory ~ chunk^2 * Np floats (default: '
        '64 on a GPU, 32 on the CPU)')
    parser.add_argument('--seed', type=int, default=0, help='for sampling')
    parser.add_argument(
        '--include-padding',
        action='store_true',
        help='also use the feature cells that only see batch padding')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/test.py')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.chunk_size is None:
        args.chunk_size = 64 if args.device.startswith('cuda') else 32
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    out_dir = args.out_dir or osp.join('work_dirs', 'attention_stats', name)

    loader = table1_loader(cfg)
    model = init_detector(cfg, args.checkpoint, device=args.device).eval()
    table = Table1(model_name=name)
    try:
        seen = collect_table1(
            model,
            loader,
            table,
            kinds=args.kinds,
            blocks=args.blocks,
            num_images=args.num_images,
            max_queries=args.max_queries,
            chunk_size=args.chunk_size,
            seed=args.seed,
            include_padding=args.include_padding)
    except (KeyError, ValueError) as e:  # no such block: say which exist
        raise SystemExit(str(e))

    estimate = args.max_queries is not None
    print(table.format())
    if estimate:
        print(f'JSD-att estimated from {args.max_queries} random query rows '
              f'per image (seed {args.seed})')
    os.makedirs(out_dir, exist_ok=True)
    table.write_csv(osp.join(out_dir, 'table1.csv'))
    table.write_json(
        osp.join(out_dir, 'table1.json'),
        extra=dict(
            config=args.config,
            checkpoint=args.checkpoint,
            num_images=seen,
            jsd_estimate=estimate,
            max_queries=args.max_queries,
            seed=args.seed,
            include_padding=args.include_padding))
    print(f'wrote {out_dir}/table1.csv and table1.json')


if __name__ == '__main__':
    main()
