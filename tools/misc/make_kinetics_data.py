"""Generate the synthetic raw-frame video dataset of the Kinetics smoke run.

Writes ``rawframes_train/``, ``rawframes_val/``, their annotation lists
``kinetics400_{train,val}_list_rawframes.txt`` and ``label_map.txt`` under
``--root`` (default ``data/kinetics_synthetic/``), laid out as MMAction2's
``RawframeDataset`` reads Kinetics-400 frames (the same file names). The
class of a video is the direction its shape moves in. The output depends
only on the arguments: running it again rewrites the same files. See
:mod:`gcnet_plugin.data.synthetic_rawframes` and docs/kinetics_data.md.

Example::

    python tools/misc/make_kinetics_data.py
    python tools/misc/make_kinetics_data.py --root data/k --num-train 40
"""
import argparse
import collections
import time

from gcnet_plugin.data.synthetic_rawframes import (CLASSES, annotation_list,
                                                   make_synthetic_rawframes)

DEFAULT_ROOT = 'data/kinetics_synthetic/'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic raw-frame video dataset')
    parser.add_argument('--root', default=DEFAULT_ROOT, help='output folder')
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-val', type=int, default=80)
    parser.add_argument('--num-frames', type=int, default=16)
    parser.add_argument(
        '--frame-size',
        type=int,
        nargs=2,
        default=[64, 64],
        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    make_synthetic_rawframes(args.root, args.num_train,
                             args.num_val, args.num_frames,
                             tuple(args.frame_size), args.seed)
    print(f'Wrote {args.num_train} train and {args.num_val} val videos of '
          f'{args.num_frames} frames of {args.frame_size[0]}x'
          f'{args.frame_size[1]} to {args.root} in '
          f'{time.time() - start:.1f} s')
    for split in ('train', 'val'):
        path = annotation_list(args.root, split)
        with open(path) as f:
            counts = collections.Counter(int(line.split()[-1]) for line in f)
        per_class = ', '.join(f'{name} {counts[i]}'
                              for i, name in enumerate(CLASSES))
        print(f'  {path}: videos by class: {per_class}')


if __name__ == '__main__':
    main()
