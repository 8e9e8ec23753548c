"""RoI layers for MMDetection's RoI heads.

Importing this package registers ``PluginRoIExtractor`` in MMDetection's
MODELS registry; its ``roi_layer`` may be ``SparseRoIAlign``.
"""
from .roi_extractor import PluginRoIExtractor
from .sparse_roi_align import SparseRoIAlign, roi_align_matrix

__all__ = ['PluginRoIExtractor', 'SparseRoIAlign', 'roi_align_matrix']
