"""NonLocal as a drop-in for mmcv's NonLocal1d/2d/3d: mmcv's own test,
state dicts loaded with strict=True, same numbers."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import NonLocal1d as MMCVNonLocal1d
from mmcv.cnn import NonLocal2d as MMCVNonLocal2d
from mmcv.cnn import NonLocal3d as MMCVNonLocal3d
from mmengine.registry import MODELS as ROOT_MODELS

from gcnet_plugin.models.layers import (NonLocal, NonLocal1d, NonLocal2d,
                                        NonLocal3d)
from gcnet_plugin.models.layers.non_local import MODES
from gcnet_plugin.models.random_weights import randomize_weights_


def test_mmcv_nonlocal_test_ported():
    """mmcv's tests/test_cnn/test_non_local.py with ours: ``_NonLocalNd``
    is ``NonLocal`` (dimension 2 by default), ValueError as in mmcv."""
    with pytest.raises(ValueError, match='unsupport_mode'):
        NonLocal(3, mode='unsupport_mode')
    NonLocal(3, norm_cfg=dict(type='BN'))
    NonLocal(3, norm_cfg=dict(type='BN'), zeros_init=True)

    for cls, pool_cls, kernel, imgs in [
        (NonLocal3d, nn.MaxPool3d, (1, 2, 2), torch.randn(2, 3, 10, 20, 20)),
        (NonLocal2d, nn.MaxPool2d, (2, 2), torch.randn(2, 3, 20, 20)),
        (NonLocal1d, nn.MaxPool1d, 2, torch.randn(2, 3, 20)),
    ]:
        assert cls(3)(imgs).shape == imgs.shape
        for mode in ('dot_product', 'concatenation'):
            block = cls(3, mode=mode)
            assert block.mode == mode
            assert block(imgs).shape == imgs.shape
        block = cls(3, mode='gaussian')
        assert not hasattr(block, 'phi')
        assert block.mode == 'gaussian'
        assert block(imgs).shape == imgs.shape

        block = cls(3, mode='gaussian', sub_sample=True)
        assert isinstance(block.g, nn.Sequential) and len(block.g) == 2
        assert isinstance(block.g[1], pool_cls)
        assert block.g[1].kernel_size == kernel
        assert isinstance(block.phi, pool_cls)
        assert block(imgs).shape == imgs.shape

        block = cls(3, mode='dot_product', sub_sample=True)
        for m in [block.g, block.phi]:
            assert isinstance(m, nn.Sequential) and len(m) == 2
            assert isinstance(m[1], pool_cls)
            assert m[1].kernel_size == kernel
        assert block(imgs).shape == imgs.shape


def test_attributes_absent_as_in_mmcv():
    gaussian = NonLocal(8, mode='gaussian')
    assert not hasattr(gaussian, 'theta') and not hasattr(gaussian, 'phi')
    assert not hasattr(NonLocal(8), 'concat_project')
    assert hasattr(NonLocal(8, mode='concat'), 'concat_project')


def test_mmcv_registry_untouched():
    assert ROOT_MODELS.get('NonLocal2d') is MMCVNonLocal2d
    assert ROOT_MODELS.get('NonLocal') is NonLocal


REFS = {1: MMCVNonLocal1d, 2: MMCVNonLocal2d, 3: MMCVNonLocal3d}
OURS = {1: NonLocal1d, 2: NonLocal2d, 3: NonLocal3d}
SHAPES = {1: (2, 8, 12), 2: (2, 8, 4, 6), 3: (2, 8, 3, 4, 6)}
NORMS = {1: 'BN1d', 2: 'BN', 3: 'BN3d'}
CASES = [(d, m, s, n) for d in (1, 2, 3) for m in MODES for s in (False, True)
         for n in (False, True)]


@pytest.mark.parametrize('dimension, mode, sub_sample, norm', CASES)
def test_mmcv_state_dict_loads_strict_same_output(dimension, mode, sub_sample,
                                                  norm):
    kwargs = dict(mode=mode, sub_sample=sub_sample)
    if norm:  # as MMAction2's non_local_cfg
        kwargs['norm_cfg'] = dict(type=NORMS[dimension], requires_grad=True)
    ref = randomize_weights_(REFS[dimension](8, **kwargs)).double()
    ours = OURS[dimension](8, **kwargs).double()
    assert [(k, v.shape) for k, v in ours.state_dict().items()
            ] == [(k, v.shape) for k, v in ref.state_dict().items()]
    assert [(k, type(m)) for k, m in ours.named_modules()
            ][1:] == [(k, type(m)) for k, m in ref.named_modules()][1:]
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(SHAPES[dimension], dtype=torch.double) * 0.5
    for train in (False, True):  # BN running / batch statistics
        ref.train(train)
        ours.train(train)
        xr, xo = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_ref, out = ref(xr), ours(xo)
        assert (out_ref - x).abs().max() > 1e-2  # not the identity
        torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-10)
        if mode != 'concatenation':  # mmcv's backward fails there
            grad = torch.randn_like(x)
            out_ref.backward(grad)
            out.backward(grad)
            torch.testing.assert_close(
                xo.grad, xr.grad, rtol=1e-10, atol=1e-10)
    for (k, b), b_ref in zip(ours.named_buffers(), ref.buffers()):
        torch.testing.assert_close(b, b_ref, msg=k)  # BN running stats


def test_mmaction2_non_local_cfg_same_block_and_init():
    """MMAction2's slow-only NL config: same parameters as mmcv's block,
    zero-initialised BN after W_z (identity), registry and preset alike."""
    cfg = dict(
        sub_sample=True,
        use_scale=False,
        norm_cfg=dict(type='BN3d', requires_grad=True),
        mode='embedded_gaussian')
    ref = MMCVNonLocal3d(1024, **cfg)
    preset = NonLocal3d(1024, **cfg)
    built = ROOT_MODELS.build(
        dict(type='NonLocal', in_channels=1024, dimension=3, **cfg))
    count = sum(p.numel() for p in ref.parameters())
    for block in (preset, built):
        assert sum(p.numel() for p in block.parameters()) == count
        assert block.conv_out.bn.weight.abs().max() == 0
        assert block.conv_out.bn.bias.abs().max() == 0
        x = torch.randn(1, 1024, 2, 4, 4)
        torch.testing.assert_close(block(x), x, rtol=0, atol=0)
