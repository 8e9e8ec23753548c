"""check_data_cfg: a clear DataCheckError for each kind of broken data."""
import json
import os.path as osp
import shutil

import pytest
from mmengine.config import Config

from gcnet_plugin.data.checks import (DataCheckError, check_coco_json,
                                      check_data_cfg)
from gcnet_plugin.data.synthetic_coco import CLASSES

QUICKSTART = ('configs/quickstart/'
              'mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py')


@pytest.fixture
def root(quickstart_data_copy) -> str:
    """A fresh copy of the quickstart data per test, free to break."""
    return str(quickstart_data_copy) + '/'


def _cfg(root: str, wrap: bool = False) -> Config:

    def ds(split):
        d = dict(
            type='CocoDataset',
            metainfo=dict(classes=CLASSES),
            data_root=root,
            ann_file=f'annotations/instances_{split}2017.json',
            data_prefix=dict(img=f'{split}2017/'))
        return dict(type='RepeatDataset', times=2, dataset=d) if wrap else d

    return Config(
        dict(
            train_dataloader=dict(dataset=ds('train')),
            val_dataloader=dict(dataset=ds('val')),
            val_evaluator=dict(
                type='CocoMetric',
                ann_file=root + 'annotations/instances_val2017.json')))


def _edit(path: str, fn) -> None:
    with open(path) as f:
        data = json.load(f)
    fn(data)
    with open(path, 'w') as f:
        json.dump(data, f)


def _train_ann(root: str) -> str:
    return osp.join(root, 'annotations', 'instances_train2017.json')


def test_valid_data_passes(root):
    check_data_cfg(_cfg(root))
    check_data_cfg(_cfg(root, wrap=True))


def test_missing_data_root(tmp_path):
    missing = str(tmp_path / 'quickstart') + '/'
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(missing))
    msg = str(e.value)
    assert 'train_dataloader.dataset.data_root' in msg
    assert 'data root not found' in msg and missing in msg
    assert 'make_quickstart_data.py' in msg


def test_missing_data_root_of_coco_config_says_download(tmp_path):
    missing = str(tmp_path / 'coco') + '/'
    with pytest.raises(DataCheckError, match='Download COCO'):
        check_data_cfg(_cfg(missing))


def test_missing_annotation_file(root):
    shutil.rmtree(osp.join(root, 'annotations'))
    with pytest.raises(
            DataCheckError, match='annotation file not found.*train2017.json'):
        check_data_cfg(_cfg(root))


def test_missing_image_folder(root):
    shutil.rmtree(osp.join(root, 'val2017'))
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert 'val_dataloader.dataset.data_prefix.img' in str(e.value)
    assert 'image folder not found' in str(e.value)
    assert osp.join(root, 'val2017') in str(e.value)


def test_not_json(root):
    with open(_train_ann(root), 'w') as f:
        f.write('{"images": [')
    with pytest.raises(
            DataCheckError, match='not valid JSON.*instances_train2017.json'):
        check_data_cfg(_cfg(root))


def test_missing_key(root):
    _edit(_train_ann(root), lambda d: d.pop('categories'))
    with pytest.raises(DataCheckError, match=r"no list \['categories'\]"):
        check_data_cfg(_cfg(root))


def test_unknown_image_id(root):

    def fn(d):
        d['annotations'][0]['image_id'] = 987654

    _edit(_train_ann(root), fn)
    with pytest.raises(DataCheckError, match='unknown image id 987654'):
        check_data_cfg(_cfg(root))


def test_unknown_category_id(root):

    def fn(d):
        d['annotations'][-1]['category_id'] = 99

    _edit(_train_ann(root), fn)
    with pytest.raises(DataCheckError, match='unknown category id 99'):
        check_data_cfg(_cfg(root))


@pytest.mark.parametrize('bbox,problem', [
    ([1, 2, 3], 'not a list of 4 numbers'),
    ([1, 2, -3, 4], 'negative width or height'),
    ([1, 2, 'a', 4], 'not a number'),
])
def test_bad_bbox(root, bbox, problem):

    def fn(d):
        d['annotations'][1]['bbox'] = bbox

    _edit(_train_ann(root), fn)
    with pytest.raises(DataCheckError, match=problem) as e:
        check_data_cfg(_cfg(root))
    assert 'instances_train2017.json' in str(e.value)


def test_evaluator_annotation_file_checked(root):
    cfg = _cfg(root)
    cfg.val_evaluator.ann_file = root + 'annotations/missing.json'
    with pytest.raises(DataCheckError, match='val_evaluator.ann_file'):
        check_data_cfg(cfg)


def test_classes_not_in_annotation_file(root):
    cfg = _cfg(root)
    cfg.train_dataloader.dataset.metainfo = dict(classes=('person', 'car'))
    with pytest.raises(DataCheckError, match='none of the dataset'):
        check_data_cfg(cfg)


def test_classes_default_to_the_dataset_class(root):
    """Without metainfo, CocoDataset's 80 classes: none is a shape."""
    cfg = _cfg(root)
    del cfg.train_dataloader.dataset.metainfo
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(cfg)
    assert ("none of the dataset's classes ('person', 'bicycle', 'car', "
            "'motorcycle', 'airplane', 'bus', ... (80 in all)) is a "
            "category of the annotation file ('circle', 'square', 'star', "
            "'triangle')") in str(e.value)
    assert 'metainfo.classes' in str(e.value)


def test_is_a_value_error(root):
    with open(_train_ann(root), 'w') as f:
        f.write('[]')
    with pytest.raises(ValueError, match='not a JSON object'):
        check_coco_json(_train_ann(root))


def test_quickstart_config(root, load_config, tmp_path):
    """The quickstart config passes with its data, names the fix without."""
    cfg = load_config(QUICKSTART)
    check_data_cfg(_retarget(cfg, root))
    with pytest.raises(DataCheckError, match='make_quickstart_data.py'):
        check_data_cfg(_retarget(cfg, str(tmp_path / 'no' / 'quickstart')))


def _retarget(cfg: Config, root: str) -> Config:
    cfg = Config(cfg.to_dict())
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = osp.join(
            root, 'annotations', 'instances_val2017.json')
    return cfg


def test_hints_fit_the_problem(quickstart_data, tmp_path):
    """Missing data: the download or --data-root; a corrupt file: unpack
    it again (not a download); a wrong file: fix or replace it."""
    root = str(tmp_path / 'coco') + '/'
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert 'Download COCO 2017' in str(e.value)
    assert '--data-root DIR' in str(e.value)
    assert 'a child config that sets only `data_root` changes nothing' in str(
        e.value)
    shutil.copytree(quickstart_data, root)
    with open(_train_ann(root), 'w') as f:
        f.write('{"images": [')
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert 'not valid JSON' in str(e.value)
    assert 'unpack annotations_trainval2017.zip again' in str(e.value)
    assert 'Download' not in str(e.value)
    with open(_train_ann(root), 'w') as f:
        f.write('{"images": [], "annotations": []}')
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert 'must name a COCO instances file' in str(e.value)


def _rawframes_cfg(root: str) -> Config:
    return Config(
        dict(
            default_scope='mmaction',
            train_dataloader=dict(
                dataset=dict(
                    type='RawframeDataset',
                    ann_file=root + 'train_list_rawframes.txt',
                    data_prefix=dict(img=root + 'rawframes_train'),
                    filename_tmpl='img_{:05}.jpg'))))


def test_rawframe_datasets_go_to_their_check(tmp_path):
    """check_data_cfg hands a RawframeDataset to check_rawframe_dataset
    (its list and frame folder; tested in test_rawframe_checks.py)."""
    root = str(tmp_path) + '/'
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_rawframes_cfg(root))
    assert str(e.value).startswith(
        'train_dataloader.dataset.ann_file: annotation list not found: '
        f'{root}train_list_rawframes.txt')
    (tmp_path / 'rawframes_train').mkdir()
    (tmp_path / 'train_list_rawframes.txt').write_text('right/v1 x 0\n')
    with pytest.raises(DataCheckError, match="line 1 'right/v1 x 0'"):
        check_data_cfg(_rawframes_cfg(root))


def test_rawframe_data_root_gets_the_video_hint(tmp_path):
    missing = str(tmp_path / 'kinetics400') + '/'
    cfg = _rawframes_cfg('')
    cfg.train_dataloader.dataset.data_root = missing
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(cfg)
    msg = str(e.value)
    assert msg.startswith('train_dataloader.dataset.data_root: data root '
                          f'not found: {missing}')
    assert 'Kinetics-400' in msg and 'COCO' not in msg
