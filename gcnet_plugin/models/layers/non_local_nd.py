"""mmcv's ``NonLocal1d/2d/3d`` as presets of :class:`NonLocal`.

Same signature as mmcv's classes (``in_channels, sub_sample, **kwargs``),
with the dimension fixed, so code written for mmcv's classes builds ours.
Not registered: mmcv's ``NonLocal2d`` keeps its registry name; configs
spell these ``type='NonLocal', dimension=3``.
"""
from typing import Any

from .non_local import NonLocal


class _NonLocalNd(NonLocal):
    """mmcv's ``NonLocal{1,2,3}d(in_channels, sub_sample, **kwargs)``."""

    DIMENSION = 2

    def __init__(self,
                 in_channels: int,
                 sub_sample: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(
            in_channels,
            sub_sample=sub_sample,
            dimension=self.DIMENSION,
            **kwargs)


class NonLocal1d(_NonLocalNd):
    """:class:`NonLocal` on [N, C, L], a drop-in for mmcv's NonLocal1d.

    Shape:
        x: [N, C, L] -> [N, C, L]
    """

    DIMENSION = 1


class NonLocal2d(_NonLocalNd):
    """:class:`NonLocal` on [N, C, H, W], a drop-in for mmcv's NonLocal2d.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """


class NonLocal3d(_NonLocalNd):
    """:class:`NonLocal` on clips, a drop-in for mmcv's NonLocal3d.

    Shape:
        x: [N, C, T, H, W] -> [N, C, T, H, W]
    """

    DIMENSION = 3
