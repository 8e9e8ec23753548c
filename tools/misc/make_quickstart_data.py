"""Generate the quickstart's synthetic COCO-format dataset.

Writes ``train2017/``, ``val2017/`` and ``annotations/instances_*.json`` under
``--root`` (default ``data/quickstart/``), laid out like ``data/coco/``. The
output depends only on the arguments: running it again rewrites the same
files. See :mod:`gcnet_plugin.data.synthetic_coco`.

Example::

    python tools/misc/make_quickstart_data.py
    python tools/misc/make_quickstart_data.py --root data/q --num-train 20
"""
import argparse
import os.path as osp
import time

from gcnet_plugin.data.synthetic_coco import area_buckets, make_synthetic_coco

DEFAULT_ROOT = 'data/quickstart/'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic quickstart dataset')
    parser.add_argument('--root', default=DEFAULT_ROOT, help='output folder')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[256, 256],
        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    make_synthetic_coco(args.root, args.num_train, args.num_val,
                        tuple(args.image_size), args.seed)
    print(f'Wrote {args.num_train} train and {args.num_val} val images of '
          f'{args.image_size[0]}x{args.image_size[1]} to {args.root} in '
          f'{time.time() - start:.1f} s')
    for split in ('train', 'val'):
        ann = osp.join(args.root, 'annotations', f'instances_{split}2017.json')
        counts = ', '.join(f'{k} {v}' for k, v in area_buckets(ann).items())
        print(f'  {ann}: objects by COCO area: {counts}')


if __name__ == '__main__':
    main()
