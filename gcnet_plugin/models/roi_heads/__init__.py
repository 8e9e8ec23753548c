"""RoI layers and heads for MMDetection's RoI heads.

Importing this package registers ``PluginRoIExtractor`` (its
``roi_layer`` may be ``SparseRoIAlign``) and ``PluginFCNMaskHead`` in
MMDetection's MODELS registry.
"""
from .mask_head import PluginFCNMaskHead, bitmap_mask_targets
from .roi_extractor import PluginRoIExtractor
from .sparse_roi_align import SparseRoIAlign, roi_align_matrix

__all__ = [
    'PluginFCNMaskHead', 'PluginRoIExtractor', 'SparseRoIAlign',
    'bitmap_mask_targets', 'roi_align_matrix'
]
