"""RoIAlign on a CPU as one sparse matrix product.

With a fixed ``sampling_ratio`` S, RoIAlign (He et al., Mask R-CNN) is a
linear map of the feature map: every output bin is the mean of S x S
bilinear samples, and each sample is a weighted sum of 4 pixels. The
map is built here as a sparse matrix M [n * PH * PW, B * H * W] (4 * S^2
entries a row) from the same sample points and weights as mmcv's
``roi_align`` (``mmcv/ops/csrc/pytorch/cpu/roi_align.cpp``: boundary
rule, ``aligned`` half-pixel offset, ``avg`` pooling); the forward is
M @ X and the backward M^T @ dY, both multi-threaded sparse products.
mmcv's CPU kernel loops over the output on one thread, and its backward
is several times its forward (docs/quickstart.md has the measurement).
On CUDA the module calls mmcv's ``roi_align``.

Shape shorthand: B images, C channels, H x W map, n RoIs, PH x PW bins.
"""
import warnings
from typing import Tuple, Union

import torch
from mmcv.ops import roi_align
from torch import Tensor, nn
from torch.autograd import Function
from torch.nn.modules.utils import _pair

__all__ = ['SparseRoIAlign', 'roi_align_matrix']


def _axis(v: Tensor, size: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Neighbours and weights of sample coordinates along one axis, by
    mmcv's rule: outside [-1, size] a sample is 0; below 0 it is clamped
    to 0; at or past the last pixel it takes the last pixel."""
    valid = (v >= -1.0) & (v <= size)
    v = v.clamp(min=0)
    low = v.floor().long()
    last = low >= size - 1
    low = low.clamp(max=size - 1)
    high = torch.where(last, low, low + 1)
    frac = torch.where(last, torch.zeros_like(v), v - low.to(v.dtype))
    return low, high, (1 - frac) * valid, frac * valid


def roi_align_matrix(rois: Tensor, map_shape: Tuple[int, int, int],
                     output_size: Tuple[int, int], spatial_scale: float,
                     sampling_ratio: int, aligned: bool) -> Tensor:
    """RoIAlign of a [B, C, H, W] map as a sparse CSR matrix.

    Args:
        rois (Tensor): [n, 5] (image index, x1, y1, x2, y2) in input
            pixels.
        map_shape (tuple[int, int, int]): (B, H, W) of the feature map.
        output_size (tuple[int, int]): (PH, PW).
        spatial_scale (float): Map pixels per input pixel.
        sampling_ratio (int): S > 0 samples per bin along each axis.
        aligned (bool): Shift the box by half a pixel (mmcv's
            ``aligned=True``); otherwise boxes are at least 1 pixel.

    Returns:
        Tensor: CSR [n * PH * PW, B * H * W] (rois' dtype); row
        (r, i, j) holds the weights of bin (i, j) of RoI r over the
        map's pixels (b, y, x), flattened in that order.
    """
    b, h, w = map_shape
    ph, pw = output_size
    s = sampling_ratio
    n = rois.shape[0]
    offset = 0.5 if aligned else 0.0
    # [n] each
    x1, y1, x2, y2 = (rois[:, k] * spatial_scale - offset for k in range(1, 5))
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = roi_w.clamp(min=1), roi_h.clamp(min=1)
    # sample positions inside a bin, in bins: [PH, S], [PW, S]
    grid = (torch.arange(s, dtype=rois.dtype, device=rois.device) + 0.5) / s
    gy = torch.arange(ph, dtype=rois.dtype, device=rois.device)[:, None] + grid
    gx = torch.arange(pw, dtype=rois.dtype, device=rois.device)[:, None] + grid
    # [n, PH, S] and [n, PW, S] map coordinates
    ys = y1.view(n, 1, 1) + gy * (roi_h / ph).view(n, 1, 1)
    xs = x1.view(n, 1, 1) + gx * (roi_w / pw).view(n, 1, 1)
    y_lo, y_hi, wy_lo, wy_hi = _axis(ys, h)
    x_lo, x_hi, wx_lo, wx_hi = _axis(xs, w)
    # the 4 corners: [n, PH, S, 4] rows and [n, PW, S, 4] columns
    yy = torch.stack([y_lo, y_lo, y_hi, y_hi], -1)
    xx = torch.stack([x_lo, x_hi, x_lo, x_hi], -1)
    wy = torch.stack([wy_lo, wy_lo, wy_hi, wy_hi], -1)
    wx = torch.stack([wx_lo, wx_hi, wx_lo, wx_hi], -1)
    # [n, PH, PW, S, S, 4] -> rows of 4 * S^2 entries
    image = rois[:, 0].long().view(n, 1, 1, 1, 1, 1)
    cols = (image * h + yy[:, :, None, :, None]) * w + xx[:, None, :, None]
    vals = wy[:, :, None, :, None] * wx[:, None, :, None] / (s * s)
    per_row = 4 * s * s
    crow = torch.arange(
        0, n * ph * pw * per_row + 1, per_row, device=rois.device)
    with warnings.catch_warnings():
        # torch's "Sparse CSR tensor support is in beta state"
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(
            crow,
            cols.reshape(-1),
            vals.reshape(-1),
            size=(n * ph * pw, b * h * w),
            check_invariants=False)


def _transposed(matrix: Tensor) -> Tensor:
    """M^T of a CSR matrix from :func:`roi_align_matrix` as a CSR matrix.

    ``matrix.t() @ dense`` multiplies a CSC matrix on one thread, many
    times slower than sorting the entries into a CSR matrix and
    multiplying that (docs/quickstart.md). Each column's entries keep
    their row order (a stable sort), so every pixel's gradient sums in
    the same order as ``matrix.t() @ dense``.

    Args:
        matrix (Tensor): CSR [R, P] with the same number of entries in
            every row.

    Returns:
        Tensor: CSR [P, R].
    """
    rows, pixels = matrix.shape
    cols = matrix.col_indices()
    # int32 keys sort about twice as fast as int64 ones
    order = torch.argsort(cols.int(), stable=True)
    per_row = cols.numel() // max(rows, 1)
    row_of = torch.arange(cols.numel(), device=cols.device) // max(per_row, 1)
    crow = torch.zeros(pixels + 1, dtype=torch.long, device=cols.device)
    torch.cumsum(torch.bincount(cols, minlength=pixels), 0, out=crow[1:])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(
            crow,
            row_of[order],
            matrix.values()[order],
            size=(pixels, rows),
            check_invariants=False)


class _SparseRoIAlign(Function):
    """Y = M X, dX = M^T dY with M from :func:`roi_align_matrix`."""

    @staticmethod
    def forward(ctx, x: Tensor, rois: Tensor, output_size: Tuple[int, int],
                spatial_scale: float, sampling_ratio: int,
                aligned: bool) -> Tensor:
        b, c, h, w = x.shape
        matrix = roi_align_matrix(
            rois.to(x.dtype), (b, h, w), output_size, spatial_scale,
            sampling_ratio, aligned)
        ctx.save_for_backward(matrix)
        ctx.map_shape = (b, c, h, w)
        # [B, C, H, W] -> [B * H * W, C] (a view for channels_last)
        pixels = x.permute(0, 2, 3, 1).reshape(b * h * w, c)
        # [n * PH * PW, C] -> [n, C, PH, PW]
        out = (matrix @ pixels).view(-1, *output_size, c)
        return out.permute(0, 3, 1, 2).contiguous()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple:
        matrix, = ctx.saved_tensors
        b, c, h, w = ctx.map_shape
        grad_x = None
        if ctx.needs_input_grad[0]:
            # [n, C, PH, PW] -> [n * PH * PW, C]
            rows = grad.permute(0, 2, 3, 1).reshape(-1, c)
            # [B * H * W, C] -> [B, C, H, W] (channels_last strides)
            grad_x = (_transposed(matrix) @ rows).view(b, h, w,
                                                       c).permute(0, 3, 1, 2)
        return grad_x, None, None, None, None, None


class SparseRoIAlign(nn.Module):
    """mmcv's ``RoIAlign`` (``pool_mode='avg'``, a fixed sampling ratio),
    computed as a sparse matrix product on a CPU and by mmcv on CUDA.

    Args:
        output_size (int | tuple[int, int]): (PH, PW).
        spatial_scale (float): Map pixels per input pixel. Default: 1.0.
        sampling_ratio (int): Samples per bin along each axis, > 0 (mmcv's
            adaptive 0 gives each RoI its own count). Default: 1.
        aligned (bool): mmcv's ``aligned``. Default: True.

    Shape:
        input: [B, C, H, W]; rois: [n, 5] -> [n, C, PH, PW]
    """

    def __init__(self,
                 output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float = 1.0,
                 sampling_ratio: int = 1,
                 aligned: bool = True) -> None:
        super().__init__()
        if not isinstance(sampling_ratio, int) or sampling_ratio <= 0:
            raise ValueError(
                'SparseRoIAlign needs a fixed sampling_ratio > 0, got '
                f"{sampling_ratio!r}; use mmcv's RoIAlign for the adaptive 0")
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        if input.is_cuda:
            # mmcv's kernel reads NCHW: an NHWC map is made contiguous
            return roi_align(input.contiguous(), rois, self.output_size,
                             self.spatial_scale, self.sampling_ratio, 'avg',
                             self.aligned)
        return _SparseRoIAlign.apply(input, rois, self.output_size,
                                     self.spatial_scale, self.sampling_ratio,
                                     self.aligned)

    def extra_repr(self) -> str:
        return (f'output_size={self.output_size}, '
                f'spatial_scale={self.spatial_scale}, '
                f'sampling_ratio={self.sampling_ratio}, '
                f'aligned={self.aligned}')
