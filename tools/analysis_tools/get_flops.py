"""Params and FLOPs of a detector at a fixed input size, without a dataset.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W] [--json]

One FLOP is one multiply-add; what is counted and how the RoI heads are
fed: docs/flops.md and :mod:`gcnet_plugin.analysis.complexity`.
"""
import argparse
import json

from mmengine.config import DictAction

from gcnet_plugin.analysis.complexity import DEFAULT_SHAPE, get_flops


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of a detector (no dataset needed)')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=list(DEFAULT_SHAPE),
        help='input height and width (one value: square)')
    parser.add_argument(
        '--json', action='store_true', help='print one JSON object')
    parser.add_argument(
        '--no-matmul',
        action='store_true',
        help='do not count matrix products (the attention of the NL/GC '
        'blocks); see docs/flops.md')
    parser.add_argument(
        '--count-add',
        action='store_true',
        help='also count elementwise additions (one FLOP per element)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value')
    args = parser.parse_args()
    if len(args.shape) not in (1, 2):
        parser.error(f'--shape takes H [W], got {args.shape}')
    args.shape = (args.shape * 2)[:2]
    return args


def main() -> None:
    args = parse_args()
    h, w = args.shape
    res = get_flops(args.config, (h, w), not args.no_matmul, args.count_add,
                    args.cfg_options)
    if args.json:
        print(json.dumps(res))
        return
    split = '=' * 30
    print(f'{split}\nInput shape: (3, {h}, {w})\n'
          f'Flops: {res["flops_G"]:.1f} GFLOPs (multiply-adds)\n'
          f'Params: {res["params_M"]:.2f} M\n'
          f'RoIs: box head {res["rois"]["bbox"]}, '
          f'mask head {res["rois"]["mask"]}\n'
          f'By module (G): {res["by_module"]}\n'
          f'By operator (G): {res["by_operator"]}\n{split}')


if __name__ == '__main__':
    main()
