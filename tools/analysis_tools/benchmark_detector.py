"""Time a Mask R-CNN training step by part, for config variants side by side.

Splits one training step (data, preprocess, backbone, neck, RPN, RoI
sampling, bbox head, mask head, optimizer) and times it, with the whole
``train_step`` for reference, for the config and for each ``--variant``
(the config with ``--cfg-options``-style changes), all in one process in
interleaved rounds; prints each part's median ms, its share of the step
and its ratio to the same part of the first variant. See
:mod:`gcnet_plugin.profiling.detector_breakdown`; what was measured:
docs/quickstart.md.

Example::

    python tools/analysis_tools/benchmark_detector.py \\
        configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py \\
        --variant mask1 model.roi_head.mask_head.num_convs=1 \\
        --variant nhwc channels_last=True --threads 2 --repeats 5
"""
import argparse
import json
from typing import Dict, List, Optional

import torch
from mmengine.config import Config, DictAction

import gcnet_plugin  # noqa: F401  (registers modules)
from gcnet_plugin.profiling.detector_breakdown import (CLOCKS, DetectorParts,
                                                       breakdown, step_parts)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar='NAME [KEY=VALUE]',
        help='a variant: its name, then config changes as in '
        '--cfg-options; channels_last=True runs it NHWC, images=N '
        'changes the batch')
    parser.add_argument(
        '--checkpoint',
        help='weights for every variant (e.g. the trained quickstart\'s: '
        'its RoI heads see more positives than at init)')
    parser.add_argument(
        '--threads', type=int, help='torch threads (default: torch\'s)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--clock',
        choices=list(CLOCKS),
        default='wall',
        help='cpu: CPU seconds of this process (with --threads 1, the '
        'cost of the work on a busy machine); default wall')
    parser.add_argument('--json', help='write the rows here')
    return parser.parse_args()


def parse_changes(items: List[str]) -> Dict:
    """``KEY=VALUE`` strings to a dict, values as ``--cfg-options``."""
    namespace = argparse.Namespace()
    DictAction(option_strings=[], dest='changes')(None, namespace, items)
    return namespace.changes


def build_variant(config: str, changes: Dict,
                  checkpoint: Optional[str]) -> DetectorParts:
    cfg = Config.fromfile(config)
    channels_last = bool(changes.pop('channels_last', False))
    images = changes.pop('images', None)
    cfg.merge_from_dict(changes)
    return DetectorParts(
        cfg, images=images, channels_last=channels_last, checkpoint=checkpoint)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = {'config': build_variant(args.config, {}, args.checkpoint)}
    for name, *items in args.variant:
        variants[name] = build_variant(args.config, parse_changes(items),
                                       args.checkpoint)
    times = step_parts(variants, args.repeats, args.warmup, args.clock)
    rows = breakdown(times)
    print(f'# {torch.get_num_threads()} threads, {args.clock} clock, '
          f'{args.repeats} rounds, medians; ratio: to the same part of '
          '"config"')
    print(f'{"variant":<12} {"part":<13} {"ms":>8} {"share":>6} '
          f'{"ratio":>6}')
    for row in rows:
        print(f'{row["variant"]:<12} {row["part"]:<13} {row["ms"]:8.1f} '
              f'{row["share"]:6.1%} {row["ratio"]:6.2f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(threads=torch.get_num_threads(), rows=rows), f)


if __name__ == '__main__':
    main()
