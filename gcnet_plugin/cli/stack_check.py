"""Whether the installed stack imports and runs its compiled ops.

``tools/setup_env.sh`` runs it (``python -m gcnet_plugin.cli.stack_check``)
as its last step; ``make demo`` skips that step when the environment is
up to date (its stamp) and the quickstart, which imports the stack
anyway, calls :func:`stack_versions` itself: one import of the stack
instead of two.
"""
__all__ = ['stack_versions']


def stack_versions() -> str:
    """Import the stack, run one compiled mmcv op, return the versions.

    Returns:
        str: One line, ``torch X (cuda: B), torchvision X, mmcv X, ...``.

    Raises:
        RuntimeError: mmcv's compiled NMS gives a wrong result (an
            extension built for another torch fails earlier, on import).
    """
    import mmaction
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain
    import torch
    import torchvision
    from mmcv.ops import nms

    import gcnet_plugin
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
    keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1].tolist()
    if keep != [0]:
        raise RuntimeError(f"mmcv's compiled NMS kept {keep}, not [0]: "
                           'rebuild mmcv (rm -rf .venv; make setup)')
    return (f'torch {torch.__version__} (cuda: '
            f'{torch.cuda.is_available()}), torchvision '
            f'{torchvision.__version__}, mmcv {mmcv.__version__}, mmdet '
            f'{mmdet.__version__}, mmpretrain {mmpretrain.__version__}, '
            f'mmaction2 {mmaction.__version__}, mmengine '
            f'{mmengine.__version__}, gcnet_plugin {gcnet_plugin.__version__}')


if __name__ == '__main__':
    print(stack_versions())
