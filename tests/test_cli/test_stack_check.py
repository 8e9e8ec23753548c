"""stack_check: the versions line setup and the quickstart print."""
import mmcv
import torch

from gcnet_plugin.cli.stack_check import stack_versions


def test_versions_line_names_the_stack():
    line = stack_versions()
    assert line.startswith(f'torch {torch.__version__} (cuda: ')
    for name in ('torchvision', 'mmdet', 'mmpretrain', 'mmaction2', 'mmengine',
                 'gcnet_plugin'):
        assert f', {name} ' in line
    assert f'mmcv {mmcv.__version__}' in line
