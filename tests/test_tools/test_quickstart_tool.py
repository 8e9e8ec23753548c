"""tools/misc/quickstart.py (what ``make demo`` runs): data, training,
test and pictures in one process; a second run reuses the checkpoint."""
import pickle

import cv2
import pytest


@pytest.mark.slow
def test_quickstart_trains_tests_draws_then_reuses(tiny_quickstart, tmp_path,
                                                   run_tool):
    config = tiny_quickstart(tmp_path, 4, 2)
    data_root = tmp_path / 'data'
    work_dir = tmp_path / 'work'
    args = ('--config', config, '--work-dir', work_dir, '--data-root',
            f'{data_root}/')
    printed = run_tool('misc/quickstart.py', *args)
    steps = [
        line.split('] ', 1)[1].split(':')[0] for line in printed.splitlines()
        if line.startswith('==> [demo ')
    ]
    assert steps == ['data', 'train', 'test', 'plots']
    assert f'data: reusing {data_root}/' in printed
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.is_file()
    with open(work_dir / 'results.pkl', 'rb') as f:
        assert len(pickle.load(f)) == 2  # the val images
    for png in ('loss_curve.png', 'predictions.png'):
        assert cv2.imread(str(work_dir / png)).std() > 10
    table = printed.split(f'COCO AP on the {data_root} val split:\n')[1]
    assert [line.split()[0] for line in table.splitlines()[2:4]] == \
        ['bbox', 'segm']
    assert f'checkpoint        {ckpt}' in printed
    assert 's in all)' in printed

    again = run_tool('misc/quickstart.py', *args)
    assert f'train: reusing {ckpt}' in again
    assert 'train: configs' not in again
