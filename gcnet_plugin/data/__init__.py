"""Synthetic COCO-format data for the quickstart and data-config checks;
``LoadOnce`` (registered: keeps loaded samples in memory)."""
from .checks import DataCheckError, check_data_cfg
from .load_once import LoadOnce
from .synthetic_coco import CLASSES, area_buckets, make_synthetic_coco

__all__ = [
    'CLASSES', 'DataCheckError', 'LoadOnce', 'area_buckets', 'check_data_cfg',
    'make_synthetic_coco'
]
