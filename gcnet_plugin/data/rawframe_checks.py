"""Up-front checks of a raw-frame video dataset (MMAction2's
``RawframeDataset``), with errors a person can act on.

Without them a malformed annotation list stops the dataset with a bare
``ValueError``/``AssertionError`` from its parser, and a missing frame
surfaces as a ``FileNotFoundError`` in a dataloader worker, hours into a
training when the sampler first reaches that video.
:func:`gcnet_plugin.data.checks.check_data_cfg` calls
:func:`check_rawframe_dataset` for each ``RawframeDataset`` of a config.

An annotation list has one video per line, as ``RawframeDataset`` reads
it: ``FRAME_DIR TOTAL_FRAMES LABEL`` (``FRAME_DIR OFFSET TOTAL_FRAMES
LABEL`` with ``with_offset``; several labels with ``multi_class``), the
frames of a video in ``data_prefix/FRAME_DIR/`` named by
``filename_tmpl`` from ``start_index``. Every line is parsed. The frame
folders of up to ``MAX_VIDEOS_LISTED`` videos, spread evenly over the
list (all of a small list), are listed and must hold every frame their
line counts: a full Kinetics-400 list is checked in seconds.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from .checks import DataCheckError

__all__ = ['check_rawframe_dataset']

MAX_VIDEOS_LISTED = 2000
LINE_FORMAT = '"FRAME_DIR TOTAL_FRAMES LABEL"'
# What to do, by the kind of problem. "missing": the list or the frame
# root is not where the config looks; "content": the list does not parse;
# "frames": a video's frames are not all there.
SYNTHETIC_HINTS = dict(
    missing='Run `python tools/misc/make_kinetics_data.py` to generate the '
    'synthetic video data.',
    content='Delete data/kinetics_synthetic/ and run `python '
    'tools/misc/make_kinetics_data.py` to generate it again.',
    frames='Delete data/kinetics_synthetic/ and run `python '
    'tools/misc/make_kinetics_data.py` to generate it again.')
KINETICS_HINTS = dict(
    missing='Extract the Kinetics-400 frames and their annotation lists '
    'as docs/kinetics_data.md shows, or pass `--data-root DIR` to '
    'tools/train.py and tools/test.py to read your copy.',
    content='Each line of a raw-frame list is ' + LINE_FORMAT + ' '
    '(FRAME_DIR relative to data_prefix.img, a label from 0; see '
    'docs/kinetics_data.md): fix the line or write the list again.',
    frames='Extract the frames of this video again, or drop its line from '
    'the list: TOTAL_FRAMES must count the frames that are there, '
    'named by the dataset\'s filename_tmpl from its start_index.')


def _fail(where: str, path: str, problem: str, kind: str) -> None:
    hints = SYNTHETIC_HINTS if 'kinetics_synthetic' in path \
        else KINETICS_HINTS
    raise DataCheckError(f'{where}: {problem}: {path}\n  {hints[kind]}')


def _count(value: str, what: str, minimum: int) -> int:
    """``value`` as an integer >= ``minimum``.

    Raises:
        ValueError: It is not one.
    """
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ValueError(f'{what} {value!r} is not an integer >= {minimum}')
    return number


def _parse_line(line: str, with_offset: bool, multi_class: bool,
                num_classes: Optional[int]) -> Tuple[str, int, int]:
    """``(frame_dir, offset, total_frames)`` of one line.

    Raises:
        ValueError: What is wrong with the line.
    """
    fields = line.split()
    num_heads = 3 if with_offset else 2
    if len(fields) < num_heads + 1:
        form = LINE_FORMAT if not with_offset else \
            '"FRAME_DIR OFFSET TOTAL_FRAMES LABEL" (with_offset)'
        raise ValueError(f'{len(fields)} field(s) where a line is {form}')
    labels = fields[num_heads:]
    if len(labels) > 1 and not multi_class:
        raise ValueError(f'{len(labels)} labels {tuple(labels)} but the '
                         'dataset is not multi_class (one label per line)')
    offset = _count(fields[1], 'offset', 0) if with_offset else 0
    total = _count(fields[num_heads - 1], 'total_frames', 1)
    for label in labels:
        if _count(label, 'label', 0) >= (num_classes or float('inf')):
            raise ValueError(
                f'label {label} is not below num_classes {num_classes}')
    return fields[0], offset, total


def _frame_names(filename_tmpl: str, modality: str, first: int,
                 total: int) -> List[str]:
    """The file names of frames ``first .. first + total - 1``."""
    if modality == 'Flow':
        return [
            filename_tmpl.format(axis, i) for i in range(first, first + total)
            for axis in 'xy'
        ]
    return [filename_tmpl.format(i) for i in range(first, first + total)]


def _spread(count: int, most: int) -> Sequence[int]:
    """Up to ``most`` indices spread evenly over ``range(count)``."""
    if count <= most:
        return range(count)
    return sorted({i * count // most for i in range(most)})


def check_rawframe_dataset(ann_file: str,
                           data_prefix: str,
                           where: str,
                           filename_tmpl: str = 'img_{:05}.jpg',
                           start_index: int = 1,
                           with_offset: bool = False,
                           multi_class: bool = False,
                           num_classes: Optional[int] = None,
                           modality: str = 'RGB',
                           data_root: Optional[str] = None) -> None:
    """Check that a raw-frame annotation list and its frames are usable.

    Args:
        ann_file (str): Path of the annotation list (the dataset's
            ``ann_file``, joined to its ``data_root``).
        data_prefix (str): The folder of the videos' frame folders (the
            dataset's ``data_prefix.img``, joined to its ``data_root``).
        where (str): The dataset's config key, for the message (e.g.
            ``'train_dataloader.dataset'``).
        filename_tmpl (str): The dataset's ``filename_tmpl``. Default:
            ``'img_{:05}.jpg'`` (``RawframeDataset``'s).
        start_index (int): The dataset's ``start_index``: the first
            frame's number. Default: 1.
        with_offset (bool): The dataset's ``with_offset``: lines carry an
            ``OFFSET`` before ``TOTAL_FRAMES``. Default: False.
        multi_class (bool): The dataset's ``multi_class``: a line may have
            several labels. Default: False.
        num_classes (int, optional): The dataset's ``num_classes``; when
            given, every label must be below it.
        modality (str): ``'RGB'`` (one file per frame) or ``'Flow'`` (an
            ``x`` and a ``y`` file). Default: ``'RGB'``.
        data_root (str, optional): The dataset's ``data_root``; when
            given, it must be a folder (checked first).

    Raises:
        DataCheckError: The data root or the list is missing, the list
            is unreadable or empty, a line does not parse (with its
            number, its text and the bad field), the frame folder or a
            video's folder is missing, or a video lacks a frame its line
            counts (naming the first missing one).
    """
    if data_root and not osp.isdir(data_root):
        _fail(f'{where}.data_root', data_root, 'data root not found',
              'missing')
    if not osp.isfile(ann_file):
        _fail(f'{where}.ann_file', ann_file, 'annotation list not found',
              'missing')
    if not osp.isdir(data_prefix):
        _fail(f'{where}.data_prefix.img', data_prefix,
              'frame folder not found', 'missing')
    try:
        with open(ann_file, encoding='utf-8') as f:
            lines = [(n, line.strip()) for n, line in enumerate(f, 1)
                     if line.strip()]
    except UnicodeDecodeError as e:
        _fail(f'{where}.ann_file', ann_file,
              f'annotation list is not text ({e})', 'content')
    if not lines:
        _fail(f'{where}.ann_file', ann_file, 'annotation list has no videos',
              'content')
    videos = []
    for number, line in lines:
        try:
            video = _parse_line(line, with_offset, multi_class, num_classes)
        except ValueError as e:
            _fail(f'{where}.ann_file', ann_file,
                  f'line {number} {line[:80]!r}: {e}', 'content')
        videos.append((number, *video))
    for i in _spread(len(videos), MAX_VIDEOS_LISTED):
        number, frame_dir, offset, total = videos[i]
        folder = osp.join(data_prefix, frame_dir)
        if not osp.isdir(folder):
            _fail(f'{where}.data_prefix.img', folder,
                  f'frame folder of line {number} not found', 'frames')
        present = set(os.listdir(folder))
        names = _frame_names(filename_tmpl, modality, start_index + offset,
                             total)
        missing = [name for name in names if name not in present]
        if missing:
            _fail(
                f'{where}.data_prefix.img', folder,
                f'line {number} counts {total} frames ({names[0]} to '
                f'{names[-1]}) but {len(missing)} of them '
                f'{"is" if len(missing) == 1 else "are"} missing, the first '
                f'{missing[0]}', 'frames')
