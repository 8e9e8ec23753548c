"""``pip check`` finds no conflict but the two that are chosen.

mmaction2 is installed with ``--no-deps`` (requirements-no-deps.txt): its
``opencv-contrib-python`` would be a second OpenCV beside mmcv's
``opencv-python``, and ``decord`` is a video decoder the raw-frame layout
does not need. Anything else ``pip check`` reports is a real conflict.
"""
import subprocess
import sys

KNOWN = {
    'mmaction2 1.2.0 requires decord, which is not installed.',
    'mmaction2 1.2.0 requires opencv-contrib-python, which is not installed.',
}


def test_pip_check_reports_only_the_chosen_omissions() -> None:
    out = subprocess.run([sys.executable, '-m', 'pip', 'check'],
                         capture_output=True,
                         text=True).stdout
    lines = {line.strip() for line in out.splitlines() if line.strip()}
    lines.discard('No broken requirements found.')
    assert lines - KNOWN == set(), out


def test_one_opencv_build() -> None:
    from importlib import metadata
    names = {d.metadata['Name'].lower() for d in metadata.distributions()}
    opencv = sorted(n for n in names if n.startswith('opencv'))
    assert len(opencv) == 1, opencv
