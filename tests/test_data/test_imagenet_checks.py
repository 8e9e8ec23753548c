"""check_data_cfg on mmpretrain classification datasets: one clear
DataCheckError per kind of broken data, good data passes."""
import os
import os.path as osp
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config

from gcnet_plugin.data.checks import DataCheckError, check_data_cfg
from gcnet_plugin.data.imagenet_checks import (check_ann_list,
                                               is_classification_dataset)
from gcnet_plugin.data.synthetic_imagenet import (CLASSES,
                                                  make_synthetic_imagenet)


@pytest.fixture(scope='module')
def shapes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('data') / 'imagenet-shapes'
    make_synthetic_imagenet(str(root), 2, 1)
    return root


@pytest.fixture
def root(shapes, tmp_path) -> str:
    """This test's own copy, free to break."""
    return str(shutil.copytree(shapes, tmp_path / 'imagenet-shapes')) + '/'


def _cfg(root: str, num_classes: int = len(CLASSES), **dataset) -> Config:

    def ds(split):
        d = dict(
            type='ImageNet',
            data_root=root,
            split=split,
            metainfo=dict(classes=CLASSES))
        d.update(dataset)
        return d

    return Config(
        dict(
            default_scope='mmpretrain',
            model=dict(head=dict(num_classes=num_classes)),
            train_dataloader=dict(dataset=ds('train')),
            val_dataloader=dict(dataset=ds('val')),
            val_evaluator=dict(type='Accuracy', topk=(1, 5))))


def test_dispatch_by_type():
    assert is_classification_dataset(dict(type='ImageNet'))
    assert is_classification_dataset(dict(type='mmpretrain.CustomDataset'))
    assert not is_classification_dataset(dict(type='CocoDataset'))


def test_valid_data_passes(root):
    check_data_cfg(_cfg(root))
    # the class-folder layout, without the lists
    shutil.rmtree(osp.join(root, 'meta'))
    check_data_cfg(_cfg(root))
    # CustomDataset with explicit folders
    cfg = _cfg(root)
    for split in ('train', 'val'):
        cfg[f'{split}_dataloader'].dataset = dict(
            type='CustomDataset', data_root=root, data_prefix=split)
    check_data_cfg(cfg)


def test_missing_generated_data_says_generate(tmp_path):
    missing = str(tmp_path / 'imagenet-shapes') + '/'
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(missing))
    msg = str(e.value)
    assert msg.startswith('train_dataloader.dataset.data_root: data root '
                          f'not found: {missing}')
    assert 'make_imagenet_data.py' in msg


def test_missing_imagenet_says_where_to_put_it(tmp_path):
    with pytest.raises(DataCheckError, match='data/imagenet/ as mmpretrain'):
        check_data_cfg(_cfg(str(tmp_path / 'imagenet') + '/'))


def test_missing_split_folder(root):
    shutil.rmtree(osp.join(root, 'val'))
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert 'val_dataloader.dataset.ann_file (data_prefix): image folder ' \
        'not found' in str(e.value)


def test_missing_image_named_by_the_list(root):
    os.remove(osp.join(root, 'train', 'star', 'star_00001.jpg'))
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    msg = str(e.value)
    assert 'train_dataloader.dataset.ann_file: line 12 names an image ' \
        'that does not exist' in msg
    assert 'star/star_00001.jpg' in msg


@pytest.mark.parametrize(
    'line,problem',
    [('circle/circle_00000.jpg', 'is not "<image path> <label>"'),
     ('circle/circle_00000.jpg x', 'is not "<image path> <label>"'),
     ('circle/circle_00000.jpg 10', 'label 10, outside 0..9 (10 classes)'),
     ('circle/circle_00000.jpg -1', 'label -1, outside 0..9')])
def test_malformed_list_line(root, line, problem):
    ann = osp.join(root, 'meta', 'val.txt')
    with open(ann, 'a') as f:
        f.write(line + '\n')
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    msg = str(e.value)
    assert msg.startswith('val_dataloader.dataset.ann_file: line 11 ')
    assert problem in msg and ann in msg
    assert 'Delete data/imagenet-shapes/' in msg


def test_label_beyond_the_head(root):
    with pytest.raises(DataCheckError, match=r'label 5, outside 0\.\.4'):
        check_data_cfg(_cfg(root, num_classes=5))


def test_empty_list(root):
    open(osp.join(root, 'meta', 'train.txt'), 'w').close()
    with pytest.raises(DataCheckError, match='annotation list is empty'):
        check_data_cfg(_cfg(root))


def test_class_folders_do_not_match_the_classes(root):
    shutil.rmtree(osp.join(root, 'meta'))
    shutil.rmtree(osp.join(root, 'train', 'arrow'))
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert '9 class folders but the dataset has 10 classes' in str(e.value)
    cfg = _cfg(root)
    # CustomDataset without metainfo: the folders are the classes
    cfg.train_dataloader.dataset = dict(
        type='CustomDataset', data_root=root, data_prefix='train')
    cfg.model.head.num_classes = 5
    with pytest.raises(DataCheckError, match='model.head.num_classes is 5'):
        check_data_cfg(cfg)


def test_class_folders_without_images(root):
    shutil.rmtree(osp.join(root, 'meta'))
    for cls in os.listdir(osp.join(root, 'val')):
        for name in os.listdir(osp.join(root, 'val', cls)):
            os.remove(osp.join(root, 'val', cls, name))
    with pytest.raises(DataCheckError) as e:
        check_data_cfg(_cfg(root))
    assert str(e.value).startswith('val_dataloader.dataset.data_prefix: '
                                   'the class folders hold no files')


def test_check_ann_list_returns_the_largest_label(shapes):
    top = check_ann_list(
        str(shapes / 'meta' / 'train.txt'), str(shapes / 'train'), 'x')
    assert top == len(CLASSES) - 1
