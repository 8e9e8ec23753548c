"""mmdet's single-level RoI extractor, with this plugin's RoI layers.

mmdet's ``SingleRoIExtractor`` builds its ``roi_layer`` from ``mmcv.ops``
by name; :class:`PluginRoIExtractor` also knows the layers defined here
(``SparseRoIAlign``), and is otherwise the same extractor.
"""
from typing import List

from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from mmdet.utils import ConfigType
from torch import nn

from .sparse_roi_align import SparseRoIAlign

__all__ = ['PluginRoIExtractor']


@MODELS.register_module()
class PluginRoIExtractor(SingleRoIExtractor):
    """``SingleRoIExtractor`` whose ``roi_layer`` may be a ``type`` of
    :attr:`LAYERS` (e.g. ``dict(type='SparseRoIAlign', output_size=7,
    sampling_ratio=2)``) or any of ``mmcv.ops``."""

    LAYERS = {'SparseRoIAlign': SparseRoIAlign}

    def build_roi_layers(self, layer_cfg: ConfigType,
                         featmap_strides: List[int]) -> nn.ModuleList:
        cfg = layer_cfg.copy()
        if isinstance(cfg.get('type'), str) and cfg['type'] in self.LAYERS:
            cfg['type'] = self.LAYERS[cfg['type']]
        return super().build_roi_layers(cfg, featmap_strides)
