"""The synthetic raw-frame video generator: deterministic, laid out as
RawframeDataset reads it, its label the direction the shape moves in."""
import collections
import hashlib
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from gcnet_plugin.data.synthetic_rawframes import (CLASSES, FILENAME_TMPL,
                                                   annotation_list,
                                                   frame_folder,
                                                   make_synthetic_rawframes)

NUM_TRAIN, NUM_VAL, NUM_FRAMES, SIZE = 24, 8, 8, (48, 64)


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
    root = str(tmp_path_factory.mktemp('rawframes'))
    make_synthetic_rawframes(
        root, NUM_TRAIN, NUM_VAL, num_frames=NUM_FRAMES, frame_size=SIZE)
    return root


def _videos(root: str, split: str):
    """``(frame folder, total_frames, label)`` per line of the list."""
    with open(annotation_list(root, split)) as f:
        for line in f:
            frame_dir, total, label = line.split()
            yield (osp.join(frame_folder(root, split),
                            frame_dir), int(total), int(label))


def _frames(folder: str, total: int) -> np.ndarray:
    """[T, H, W, 3] float32 BGR."""
    return np.stack([
        cv2.imread(osp.join(folder, FILENAME_TMPL.format(t)))
        for t in range(1, total + 1)
    ]).astype(np.float32)


@pytest.mark.parametrize('split,num', [('train', NUM_TRAIN), ('val', NUM_VAL)])
def test_layout_and_real_jpegs(dataset, split, num):
    videos = list(_videos(dataset, split))
    assert len(videos) == num
    for folder, total, label in videos:
        assert total == NUM_FRAMES
        # <class>/<split>_<k>: the class folder is the label's name.
        assert osp.basename(osp.dirname(folder)) == CLASSES[label]
        assert osp.basename(folder).startswith(f'{split}_')
        assert sorted(os.listdir(folder)) == [
            f'img_{t:05d}.jpg' for t in range(1, NUM_FRAMES + 1)
        ]
        path = osp.join(folder, 'img_00001.jpg')
        with open(path, 'rb') as f:
            assert f.read(3) == b'\xff\xd8\xff'  # JPEG magic
        assert cv2.imread(path).shape == (*SIZE, 3)
    with open(osp.join(dataset, 'label_map.txt')) as f:
        assert f.read().split() == list(CLASSES)


def test_deterministic(dataset, tmp_path):
    again = str(tmp_path / 'again')
    make_synthetic_rawframes(
        again, NUM_TRAIN, NUM_VAL, num_frames=NUM_FRAMES, frame_size=SIZE)
    assert _digest(again) == _digest(dataset)
    other = str(tmp_path / 'other')
    make_synthetic_rawframes(
        other,
        NUM_TRAIN,
        NUM_VAL,
        num_frames=NUM_FRAMES,
        frame_size=SIZE,
        seed=1)
    assert _digest(other) != _digest(dataset)


def test_labels_are_balanced_and_val_held_out(dataset):
    counts = collections.Counter(l for *_, l in _videos(dataset, 'train'))
    assert counts == {k: NUM_TRAIN // len(CLASSES) for k in range(8)}
    val = list(_videos(dataset, 'val'))
    assert {label for *_, label in val} == set(range(len(CLASSES)))
    # A different stream: no val frame equals a train frame.
    train_first = {
        hashlib.sha1(_frames(folder, 1).tobytes()).digest()
        for folder, *_ in _videos(dataset, 'train')
    }
    assert not {
        hashlib.sha1(_frames(folder, 1).tobytes()).digest()
        for folder, *_ in val
    } & train_first


def _motion_angle(frames: np.ndarray) -> float:
    """The direction (degrees, counter-clockwise from "right", y up) from
    the first frame to the last of what moves.

    Against the middle frame, frame t changes where the shape is at t or
    in the middle; the centre of those pixels moves half as far as the
    shape between the first and the last frame.
    """
    middle = frames[len(frames) // 2]

    def centre(frame: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(np.abs(frame - middle).sum(-1) > 100)
        return np.array([xs.mean(), ys.mean()])

    dx, dy = centre(frames[-1]) - centre(frames[0])
    return float(np.degrees(np.arctan2(-dy, dx)) % 360)


def test_the_label_is_the_direction_of_motion(dataset):
    errors = []
    for split in ('train', 'val'):
        for folder, total, label in _videos(dataset, split):
            angle = _motion_angle(_frames(folder, total))
            diff = abs(angle - 45 * label) % 360
            errors.append(min(diff, 360 - diff))
    # The nearest of the eight directions, by far (seen: < 6 degrees).
    assert max(errors) < 15


def test_only_the_shape_moves(dataset):
    """From one frame to the next, the background and the still shapes
    stay: only the moving shape (a small part) and the noise change."""
    folder, total, _ = next(_videos(dataset, 'train'))
    frames = _frames(folder, total)
    moved = np.abs(frames[1] - frames[0]).sum(-1) > 100
    assert 0 < moved.mean() < 0.15


def test_rawframe_dataset_reads_it(dataset):
    from mmaction.registry import DATASETS
    from mmengine.registry import DefaultScope
    pipeline = [
        dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
        dict(type='RawFrameDecode'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]
    with DefaultScope.overwrite_default_scope('mmaction'):
        ds = DATASETS.build(
            dict(
                type='RawframeDataset',
                ann_file=osp.basename(annotation_list(dataset, 'val')),
                data_root=dataset,
                data_prefix=dict(
                    img=osp.basename(frame_folder(dataset, 'val'))),
                pipeline=pipeline,
                test_mode=True))
    assert len(ds) == NUM_VAL
    labels = [label for *_, label in _videos(dataset, 'val')]
    for i in (0, NUM_VAL - 1):
        sample = ds[i]
        assert tuple(sample['inputs'].shape) == (1, 3, 4, *SIZE)
        assert int(sample['data_samples'].gt_label) == labels[i]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_train'):
        make_synthetic_rawframes(str(tmp_path), -1, 1)
    with pytest.raises(ValueError, match='num_frames'):
        make_synthetic_rawframes(str(tmp_path), 1, 1, num_frames=1)
    with pytest.raises(ValueError, match='too small'):
        make_synthetic_rawframes(str(tmp_path), 1, 1, frame_size=(16, 64))
