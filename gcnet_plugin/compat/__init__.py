"""Narrow fixes for the fixed stack (mmengine 0.10.7, mmcv 2.1.0, mmdet
3.3.0) on current PyTorch."""
