"""--data-root points every dataset and evaluator at one folder; a child
config that sets only data_root is named as the trap it is."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from gcnet_plugin.cli import load_config, set_data_root
from gcnet_plugin.data.checks import (DataCheckError, check_data_cfg,
                                      ignored_data_root)
from gcnet_plugin.data.synthetic_coco import make_synthetic_coco

PAPER = 'configs/gcnet/mask-rcnn_r50-syncbn_fpn_1x_coco.py'
TEST_DEV = ('configs/gcnet/'
            'cascade-mask-rcnn_x101-32x4d-syncbn_fpn_1x_coco-test-dev.py')


@pytest.fixture(scope='module')
def coco(tmp_path_factory) -> str:
    """Generated images whose categories have COCO's names."""
    root = str(tmp_path_factory.mktemp('my_coco'))
    make_synthetic_coco(root, 2, 2, image_size=(32, 32), seed=0)
    for split in ('train', 'val'):
        path = osp.join(root, 'annotations', f'instances_{split}2017.json')
        with open(path) as f:
            data = json.load(f)
        for cat, name in zip(data['categories'], ('person', 'car', 'dog')):
            cat['name'] = name
        with open(path, 'w') as f:
            json.dump(data, f)
    return root


def _roots(cfg):
    return {
        split: cfg[f'{split}_dataloader'].dataset.data_root
        for split in ('train', 'val', 'test')
    }


def test_paper_config_reads_the_given_folder(repo_root, coco):
    cfg = Config.fromfile(str(repo_root / PAPER))
    with pytest.raises(DataCheckError, match='--data-root DIR'):
        check_data_cfg(cfg)  # no data/coco/ here
    changed = set_data_root(cfg, coco)
    assert set(_roots(cfg).values()) == {coco + '/'}
    ann = osp.join(coco, 'annotations', 'instances_val2017.json')
    assert cfg.val_evaluator.ann_file == cfg.test_evaluator.ann_file == ann
    assert {
        'train_dataloader.dataset.data_root', 'val_evaluator.ann_file',
        'test_evaluator.ann_file'
    } <= set(changed)
    check_data_cfg(cfg)  # every path now exists


def test_test_dev_evaluator_follows(repo_root, tmp_path):
    cfg = Config.fromfile(str(repo_root / TEST_DEV))
    set_data_root(cfg, str(tmp_path))
    assert cfg.test_evaluator.ann_file == str(tmp_path / 'annotations' /
                                              'image_info_test-dev2017.json')
    assert cfg.test_dataloader.dataset.data_prefix.img == 'test2017/'


def test_wrapped_datasets_and_absolute_paths(tmp_path):
    old = '/old/coco/'
    leaf = dict(
        type='CocoDataset',
        data_root=old,
        ann_file=old + 'annotations/a.json',
        data_prefix=dict(img=old + 'train2017/'))
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(type='RepeatDataset', times=2, dataset=leaf),
                        dict(leaf, ann_file='annotations/b.json')
                    ])),
            val_dataloader=dict(
                dataset=dict(leaf, ann_file='annotations/val.json')),
            val_evaluator=[
                dict(type='CocoMetric', ann_file='/elsewhere/val.json'),
                dict(type='CocoMetric', ann_file=None)
            ]))
    new = str(tmp_path)
    set_data_root(cfg, new)
    first, second = cfg.train_dataloader.dataset.datasets
    assert first.dataset.data_root == second.data_root == new + '/'
    assert first.dataset.ann_file == osp.join(new, 'annotations/a.json')
    assert first.dataset.data_prefix.img == osp.join(new, 'train2017')
    assert second.ann_file == 'annotations/b.json'  # relative: follows
    # Same file name as the split's annotation file: moved too.
    assert cfg.val_evaluator[0].ann_file == osp.join(new,
                                                     'annotations/val.json')
    assert cfg.val_evaluator[1].ann_file is None


def test_child_config_setting_only_data_root_is_named(repo_root, tmp_path,
                                                      coco):
    child = tmp_path / 'child.py'
    child.write_text(f'_base_ = {str(repo_root / PAPER)!r}\n'
                     f'data_root = {coco + "/"!r}\n')
    cfg = Config.fromfile(str(child))
    # mmengine filled the dataloaders in from the base file's data_root.
    assert set(_roots(cfg).values()) == {'data/coco/'}
    note = ignored_data_root(cfg)
    assert f'Pass --data-root {coco}/ instead' in note
    with pytest.raises(DataCheckError) as info:
        check_data_cfg(cfg)
    assert "The config sets data_root = '" + coco in str(info.value)
    # load_config with --data-root fixes it.
    cfg = load_config(str(child), data_root=coco)
    assert ignored_data_root(cfg) is None
    check_data_cfg(cfg)
