"""Params and FLOPs of a detector, classifier or action recognizer.

    python tools/analysis_tools/get_flops.py CONFIG [--shape [T] H W]
        [--json] [--no-matmul] [--count-add] [--no-bn]

No dataset is needed. The input is the config's toolbox's default (one
1280 x 800 image for MMDetection, 224 x 224 for MMPretrain, one clip of
8 x 224 x 224 for MMAction2) unless ``--shape`` says otherwise. One FLOP
is one multiply-add; what is counted and how the RoI heads are fed:
docs/flops.md and :mod:`gcnet_plugin.analysis.complexity`.
"""
import argparse
import json

from mmengine.config import DictAction

from gcnet_plugin.analysis.complexity import get_flops


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of a detector, classifier or action '
        'recognizer (no dataset needed)')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input height and width (one value: square); a clip takes '
        'T H W. Default: 1280 800 (mmdet), 224 224 (mmpretrain), '
        '8 224 224 (mmaction)')
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
        '--no-bn',
        action='store_true',
        help='do not count BatchNorm (folded into the preceding conv, as '
        'the paper counts ImageNet models; see docs/imagenet.md)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value')
    args = parser.parse_args()
    if args.shape is not None and len(args.shape) not in (1, 2, 3):
        parser.error(f'--shape takes [T] H W, got {args.shape}')
    return args


def main() -> None:
    args = parse_args()
    try:
        res = get_flops(args.config, args.shape, not args.no_matmul,
                        args.count_add, args.cfg_options, not args.no_bn)
    except ValueError as e:  # a shape or scope the model cannot take
        raise SystemExit(f'error: {e}')
    if args.json:
        print(json.dumps(res))
        return
    split = '=' * 30
    lines = [
        split, f'Input shape: {(3, *res["shape"])}',
        f'Flops: {res["flops_G"]:.{1 if res["flops_G"] >= 100 else 2}f} '
        'GFLOPs (multiply-adds)', f'Params: {res["params_M"]:.2f} M'
    ]
    if res['rois'] is not None:
        lines.append(f'RoIs: box head {res["rois"]["bbox"]}, '
                     f'mask head {res["rois"]["mask"]}')
    lines += [
        f'By module (G): {res["by_module"]}',
        f'By operator (G): {res["by_operator"]}', split
    ]
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
