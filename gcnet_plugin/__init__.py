"""GCNet for MMDetection 3.x.

Importing this package registers its modules in MMDetection's registries
(``custom_imports = dict(imports=['gcnet_plugin'],
allow_failed_imports=False)`` in a config) and installs the narrow
compatibility fixes for current PyTorch (see :mod:`gcnet_plugin.compat`).
:mod:`gcnet_plugin.engine` makes training resumable exactly and safe to
stop (``tools/train.py`` switches it on).
"""
from . import compat, data, engine, models  # noqa: F401  (registers modules)
from .version import __version__

__all__ = ['__version__']
