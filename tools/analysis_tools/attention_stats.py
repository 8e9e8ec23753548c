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
(about 4e10 at c4 of a 1333x800 image, Np = 84 x 50 = 4200): 0.6 s per
image on one H100, but many minutes per image on a CPU. ``--max-queries K``
averages over ``K`` random query rows against all rows instead
(``K * Np ** 2`` work; K = 32 took ~20 s per image on 2 busy CPU cores), an
unbiased estimate, marked as such in the outputs.
"""
import argparse
import copy
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from gcnet_plugin.analysis.attention_recorder import (AttentionRecorder,
                                                      block_kind)
from gcnet_plugin.analysis.attention_statistics import (Table1,
                                                        image_statistics,
                                                        jsd_applies)
from gcnet_plugin.analysis.feature_geometry import valid_feature_size


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Table 1 statistics of non-local blocks (GCNet, 3.2)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--num-images',
        type=int,
        default=None,
        help='use the first N images of the test set (default: all)')
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


def build_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    from mmdet.apis import init_detector
    model = init_detector(cfg, checkpoint, device=device)
    model.eval()
    return model


def build_loader(cfg: Config) -> torch.utils.data.DataLoader:
    from gcnet_plugin.data.checks import check_data_cfg

    # a clear error for a missing data root / annotation / image folder
    check_data_cfg(Config(dict(test_dataloader=cfg.test_dataloader)))
    loader_cfg = copy.deepcopy(cfg.test_dataloader)
    # one image per batch: no padding to another image's size
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
    return Runner.build_dataloader(loader_cfg)


def block_label(block: torch.nn.Module) -> str:
    if block_kind(block) == 'nonlocal':
        return block.mode
    return f'context ({block.pooling_type})'


def _jsd_progress(done: int, total: int) -> None:
    # inner progress for the long exact JSD of one image
    print(
        f'\r  JSD blocks {done}/{total}',
        end='\n' if done == total else '',
        flush=True)


@torch.no_grad()
def collect(model: torch.nn.Module, loader, args: argparse.Namespace,
            table: Table1) -> int:
    """Run the images through the backbone; returns the image count."""
    recorder = AttentionRecorder(model, names=args.blocks, kinds=args.kinds)
    if not recorder.blocks:
        raise SystemExit(f'no {"/".join(args.kinds)} block in the model; '
                         f'try --kinds nonlocal context')
    total = len(loader.dataset)
    if args.num_images is not None:
        total = min(total, args.num_images)
    generator = torch.Generator().manual_seed(args.seed)
    bar = ProgressBar(total)
    seen = 0
    warned = False
    for batch in loader:
        if seen >= total:
            break
        data = model.data_preprocessor(batch, False)
        with recorder:
            model.extract_feat(data['inputs'])
        for n, sample in enumerate(data['data_samples']):
            meta = sample.metainfo
            for name, rec in recorder.records.items():
                block = recorder.blocks[name]
                feat_size = tuple(rec.inputs.shape[-2:])
                valid = feat_size if args.include_padding else \
                    valid_feature_size(feat_size, meta['batch_input_shape'],
                                       meta['img_shape'])
                is_nl = block_kind(block) == 'nonlocal'
                with_jsd = is_nl and jsd_applies(block.mode)
                num = valid[0] * valid[1]
                slow = (
                    with_jsd and args.max_queries is None and num > 1500
                    and rec.inputs.device.type == 'cpu')
                if slow and not warned:
                    print(f'\nnote: exact JSD over {num} positions on the '
                          f'CPU takes a while; --max-queries K estimates it')
                    warned = True
                stats = image_statistics(
                    rec.inputs[n],
                    rec.outputs[n],
                    rec.attention[n] if is_nl else None,
                    valid=valid,
                    with_jsd=with_jsd,
                    chunk_size=args.chunk_size,
                    max_queries=args.max_queries,
                    generator=generator,
                    progress=_jsd_progress if slow else None)
                table.add(name, block_label(block), stats, num)
            seen += 1
            bar.update()
    print()
    return seen


def main() -> None:
    args = parse_args()
    if args.chunk_size is None:
        args.chunk_size = 64 if args.device.startswith('cuda') else 32
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    out_dir = args.out_dir or osp.join('work_dirs', 'attention_stats', name)

    loader = build_loader(cfg)
    model = build_model(cfg, args.checkpoint, args.device)
    table = Table1(model_name=name)
    seen = collect(model, loader, args, table)

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
