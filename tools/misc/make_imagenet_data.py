"""Generate the classification smoke runs' ImageNet-format dataset.

Writes ``train/<class>/``, ``val/<class>/`` and ``meta/{train,val}.txt``
under ``--root`` (default ``data/imagenet-shapes/``), laid out like
mmpretrain's ``data/imagenet/``: ten shape classes at 64x64. The output
depends only on the arguments: running it again rewrites the same files.
See :mod:`gcnet_plugin.data.synthetic_imagenet`.

Example::

    python tools/misc/make_imagenet_data.py
    python tools/misc/make_imagenet_data.py --root data/s --num-train 20
"""
import argparse
import time

from gcnet_plugin.data.synthetic_imagenet import (CLASSES,
                                                  make_synthetic_imagenet)

DEFAULT_ROOT = 'data/imagenet-shapes/'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic ImageNet-format dataset')
    parser.add_argument('--root', default=DEFAULT_ROOT, help='output folder')
    parser.add_argument(
        '--num-train', type=int, default=100, help='images per class')
    parser.add_argument(
        '--num-val', type=int, default=20, help='images per class')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[64, 64],
        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    written = make_synthetic_imagenet(args.root, args.num_train, args.num_val,
                                      tuple(args.image_size), args.seed)
    print(f'Wrote {written["train"]} train and {written["val"]} val images '
          f'of {args.image_size[0]}x{args.image_size[1]} in '
          f'{len(CLASSES)} classes to {args.root} in '
          f'{time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
