"""The synthetic ImageNet generator: mmpretrain's layout, deterministic,
balanced, and classes that differ in outline only."""
import hashlib
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from gcnet_plugin.data.synthetic_imagenet import (CLASSES, make_image,
                                                  make_synthetic_imagenet)


def _digest(root: str) -> str:
    """One hash over every file's relative path and bytes."""
    h = hashlib.sha1()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(dirpath, name)
            h.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('shapes'))
    assert make_synthetic_imagenet(root, 3, 2) == dict(train=30, val=20)
    return root


@pytest.mark.parametrize('split,per_class', [('train', 3), ('val', 2)])
def test_folders_and_lists_agree(dataset, split, per_class):
    """Class folders sorted by name would give other labels than
    CLASSES' order: the lists hold the labels, the folders the files."""
    with open(osp.join(dataset, 'meta', f'{split}.txt')) as f:
        lines = [line.split() for line in f]
    assert len(lines) == per_class * len(CLASSES)
    listed = set()
    for name, label in lines:
        cls = name.split('/')[0]
        assert int(label) == CLASSES.index(cls)
        path = osp.join(dataset, split, name)
        with open(path, 'rb') as f:
            assert f.read(3) == b'\xff\xd8\xff'  # JPEG magic
        assert cv2.imread(path).shape == (64, 64, 3)
        listed.add(name)
    on_disk = {
        f'{cls}/{n}'
        for cls in os.listdir(osp.join(dataset, split))
        for n in os.listdir(osp.join(dataset, split, cls))
    }
    assert on_disk == listed
    assert sorted(os.listdir(osp.join(dataset, split))) == sorted(CLASSES)


def test_deterministic_and_prefix_stable(dataset, tmp_path):
    again = str(tmp_path / 'again')
    make_synthetic_imagenet(again, 3, 2)
    assert _digest(again) == _digest(dataset)
    other = str(tmp_path / 'other')
    make_synthetic_imagenet(other, 3, 2, seed=1)
    assert _digest(other) != _digest(dataset)
    # A larger set starts with the same images.
    bigger = str(tmp_path / 'bigger')
    make_synthetic_imagenet(bigger, 4, 0)
    name = f'star/star_{2:05d}.jpg'
    with open(osp.join(bigger, 'train', name), 'rb') as f1, \
            open(osp.join(dataset, 'train', name), 'rb') as f2:
        assert f1.read() == f2.read()


def test_val_is_not_train(dataset):
    for cls in CLASSES:
        name = f'{cls}/{cls}_00000.jpg'
        a = cv2.imread(osp.join(dataset, 'train', name)).astype(int)
        b = cv2.imread(osp.join(dataset, 'val', name)).astype(int)
        assert np.abs(a - b).mean() > 10


def test_classes_differ_in_outline_not_colour():
    """The shape's pixels (where the image departs from its background
    most) cover a different fraction of the image per class, and the mean
    colour says nothing about the class."""
    rng = np.random.default_rng(0)
    means = {cls: [] for cls in CLASSES}
    for cls in CLASSES:
        for _ in range(20):
            img = make_image(cls, rng, (64, 64))
            means[cls].append(img.reshape(-1, 3).mean(0))
    per_class = np.array([np.mean(v, 0) for v in means.values()])
    spread = np.array([np.std(v, 0) for v in means.values()]).mean()
    # Class means of the colour vary less than single images do.
    assert per_class.std(0).mean() < spread


def test_ring_has_a_hole_and_circle_none():
    from gcnet_plugin.data.synthetic_imagenet import _draw_shape
    masks = {}
    for cls in ('circle', 'ring'):
        mask = np.zeros((64, 64), np.uint8)
        _draw_shape(cls, mask, 32, 32, 20, 0.0)
        masks[cls] = mask
    assert masks['circle'][32, 32] == 255 and masks['ring'][32, 32] == 0
    assert masks['ring'][32, 32 + 16] == 255


def test_bad_arguments():
    with pytest.raises(ValueError, match='>= 0'):
        make_synthetic_imagenet('/nonexistent', -1, 1)
    with pytest.raises(ValueError, match='too small'):
        make_synthetic_imagenet('/nonexistent', 1, 1, image_size=(16, 64))
    with pytest.raises(ValueError, match='unknown shape'):
        make_image('blob', np.random.default_rng(0), (64, 64))
