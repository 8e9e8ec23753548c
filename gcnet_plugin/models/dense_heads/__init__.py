"""Dense heads for MMDetection.

Importing this package registers ``PluginRPNHead`` in MMDetection's
MODELS registry.
"""
from .rpn_head import PluginRPNHead

__all__ = ['PluginRPNHead']
