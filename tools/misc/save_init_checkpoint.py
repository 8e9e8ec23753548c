"""Save a config's model as initialised, before any training.

Evaluating it with ``tools/test.py`` gives the chance-level baseline that a
trained model is compared against (the quickstart's "untrained" row).

Example::

    python tools/misc/save_init_checkpoint.py \\
        configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py \\
        work_dirs/quickstart/untrained.pth
    python tools/test.py \\
        configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py \\
        work_dirs/quickstart/untrained.pth --work-dir work_dirs/untrained
"""
import argparse
import os.path as osp

import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine import mkdir_or_exist
from mmengine.config import Config

import gcnet_plugin  # noqa: F401  (registers the blocks and backbones)


def main() -> None:
    parser = argparse.ArgumentParser(description='Save initial weights')
    parser.add_argument('config')
    parser.add_argument('out', help='output .pth')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    register_all_modules()
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    model.init_weights()
    mkdir_or_exist(osp.dirname(osp.abspath(args.out)))
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(note='initial weights, untrained', seed=args.seed)),
        args.out)
    print(f'Wrote {args.out}')


if __name__ == '__main__':
    main()
