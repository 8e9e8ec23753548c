"""GCNet for MMDetection 3.x.

Importing this package registers its modules in MMDetection's registries
(``custom_imports = dict(imports=['gcnet_plugin'],
allow_failed_imports=False)`` in a config) and installs the narrow
compatibility fixes for current PyTorch (see :mod:`gcnet_plugin.compat`).
"""
from . import compat, models  # noqa: F401  (registration side effects)
from .version import __version__

__all__ = ['__version__']
