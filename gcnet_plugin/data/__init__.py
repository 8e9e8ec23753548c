"""Synthetic COCO-format data for the quickstart and data-config checks."""
from .checks import DataCheckError, check_data_cfg
from .synthetic_coco import CLASSES, area_buckets, make_synthetic_coco

__all__ = [
    'CLASSES', 'DataCheckError', 'area_buckets', 'check_data_cfg',
    'make_synthetic_coco'
]
