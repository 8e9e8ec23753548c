"""SparseRoIAlign: mmcv's RoIAlign values and gradients, as a sparse
product; PluginRoIExtractor builds it."""
import pytest
import torch
from mmcv.ops import roi_align
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

from gcnet_plugin.models.roi_heads import SparseRoIAlign, roi_align_matrix
from gcnet_plugin.models.roi_heads.sparse_roi_align import _transposed


def random_rois(n: int, images: int, size: float) -> torch.Tensor:
    """[n, 5] boxes, some reaching past the map's edges, some tiny."""
    gen = torch.Generator().manual_seed(n)
    xy = torch.rand(n, 2, generator=gen) * (size + 20) - 10
    wh = torch.rand(n, 2, generator=gen) * size / 2
    wh[::7] = 0.3  # under one map pixel
    index = torch.randint(0, images, (n, 1), generator=gen).float()
    return torch.cat([index, xy, xy + wh], 1)


@pytest.mark.parametrize('sampling_ratio', [1, 2, 3])
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('channels_last', [False, True])
def test_same_as_mmcv(sampling_ratio, aligned, channels_last):
    torch.manual_seed(0)
    x = torch.randn(3, 5, 20, 24)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    rois = random_rois(40, 3, 96)
    grad = torch.randn(40, 5, 7, 6)
    results = []
    ours = SparseRoIAlign((7, 6), 0.25, sampling_ratio, aligned)
    for fn in (
            lambda t: roi_align(t.contiguous(), rois,
                                (7, 6), 0.25, sampling_ratio, 'avg', aligned),
            lambda t: ours(t, rois)):
        xi = x.clone().requires_grad_()
        out = fn(xi)
        out.backward(grad)
        results.append((out, xi.grad))
    (ref, ref_grad), (out, out_grad) = results
    assert out.shape == (40, 5, 7, 6) and out.is_contiguous()
    # fp32: sample positions and sums computed in another order
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out_grad, ref_grad, rtol=1e-4, atol=1e-4)
    assert ref.abs().max() > 0.5  # the boxes hit the map


def test_matrix_rows_are_bin_means():
    """Each row sums to 1 inside the map (a mean of bilinear samples), 0
    for a box entirely outside it."""
    rois = torch.tensor([[0., 4., 4., 40., 30.], [1., 500., 500., 600., 600.]])
    m = roi_align_matrix(rois, (2, 16, 16), (2, 2), 0.25, 2, True)
    assert m.shape == (8, 2 * 16 * 16)
    sums = m.to_dense().sum(1)
    torch.testing.assert_close(sums, torch.tensor([1.] * 4 + [0.] * 4))
    # the first box reads image 0 only
    assert m.to_dense()[:4, 256:].abs().sum() == 0


def test_backward_sums_as_the_transposed_product():
    """The backward's CSR M^T gives matrix.t() @ dense bit for bit."""
    rois = random_rois(60, 2, 64)
    m = roi_align_matrix(rois, (2, 16, 16), (7, 7), 0.25, 2, True)
    grad = torch.randn(60 * 49, 8, generator=torch.Generator().manual_seed(1))
    ours = _transposed(m)
    assert ours.layout == torch.sparse_csr and ours.shape == (512, 60 * 49)
    assert torch.equal(ours @ grad, m.t() @ grad)


def test_cuda_maps_go_to_mmcv_as_nchw(monkeypatch):
    """On CUDA mmcv's kernel runs, on a contiguous (NCHW) map."""
    from unittest import mock

    from gcnet_plugin.models.roi_heads import sparse_roi_align
    calls = []
    monkeypatch.setattr(sparse_roi_align, 'roi_align',
                        lambda x, *args: calls.append((x, args)))
    nhwc = mock.Mock(is_cuda=True)
    SparseRoIAlign(7, 0.25, 2)(nhwc, 'rois')
    nhwc.contiguous.assert_called_once_with()
    assert calls == [(nhwc.contiguous(), ('rois', (7, 7), 0.25, 2, 'avg',
                                          True))]


def test_no_rois():
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    out = SparseRoIAlign(7, 0.25, 2)(x, torch.zeros(0, 5))
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert x.grad.abs().sum() == 0


@pytest.mark.parametrize('ratio', [0, -1, 1.5])
def test_adaptive_sampling_is_refused(ratio):
    with pytest.raises(ValueError, match=f'got {ratio!r}.*adaptive'):
        SparseRoIAlign(7, sampling_ratio=ratio)


def test_plugin_extractor_builds_it_and_matches_single_extractor():
    init_default_scope('mmdet')
    cfg = dict(
        roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
        out_channels=6,
        featmap_strides=[4, 8])
    ref = MODELS.build(dict(type='SingleRoIExtractor', **cfg))
    cfg['roi_layer']['type'] = 'SparseRoIAlign'
    ours = MODELS.build(dict(type='PluginRoIExtractor', **cfg))
    assert all(isinstance(m, SparseRoIAlign) for m in ours.roi_layers)
    assert [m.spatial_scale for m in ours.roi_layers] == [0.25, 0.125]
    feats = (torch.randn(2, 6, 32, 32), torch.randn(2, 6, 16, 16))
    # small boxes go to the stride-4 level, large ones to stride 8
    rois = torch.tensor([[0., 2., 3., 30., 40.], [1., 10., 5., 120., 100.],
                         [1., 0., 0., 127., 127.]])
    torch.testing.assert_close(
        ours(feats, rois), ref(feats, rois), rtol=1e-5, atol=1e-5)
