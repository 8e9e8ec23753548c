"""Let ``import mmaction.models`` work on mmaction2 1.2.0 as published.

``mmaction/models/localizers/__init__.py`` of mmaction2 1.2.0 runs
``from .drn.drn import DRN``, but its wheel and source archive ship no
``mmaction.models.localizers.drn`` package, so ``import mmaction.models``
(and with it every recognizer and backbone) fails with ``No module named
'mmaction.models.localizers.drn'``. DRN is a temporal-grounding localizer
that nothing here uses.

:func:`install` appends an import finder to ``sys.meta_path``. Being last,
it is asked only for modules that no other finder found, and it answers
only for the missing package and its ``drn`` module: an installed mmaction2
that has them (e.g. one built from git) loads its own, untouched. The
stand-in ``DRN`` is registered in mmaction2's ``MODELS`` like the real one,
and building it raises :class:`DRNUnavailableError` saying how to get the
real localizer.
"""
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Optional, Sequence

__all__ = ['DRN', 'DRNUnavailableError', 'PlaceholderFinder', 'install']

PACKAGE = 'mmaction.models.localizers.drn'


class DRNUnavailableError(RuntimeError):
    """DRN was built, but mmaction2's DRN code is not installed."""


class DRN:
    """Stand-in for mmaction2's ``DRN`` localizer; building it raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise DRNUnavailableError(
            f'DRN is not available: the installed mmaction2 lacks the '
            f'package {PACKAGE} (mmaction2 1.2.0 as published ships '
            f'without it; gcnet_plugin stands in a placeholder so that '
            f'`import mmaction.models` works). Install mmaction2 from '
            f'https://github.com/open-mmlab/mmaction2 to use DRN.')


class PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Provide ``package`` and ``package.drn`` when nothing else does.

    Args:
        package (str): Dotted name of the missing package; its module
            ``drn`` defines :class:`DRN`.
        register (bool): Register :class:`DRN` in mmaction2's ``MODELS``
            when the placeholder ``drn`` module is loaded. Default: True.
    """

    def __init__(self, package: str, register: bool = True) -> None:
        self.package = package
        self.register = register
        self.loaded: list = []

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]] = None,
        target: Optional[ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        """A spec for the package or its ``drn`` module, else ``None``."""
        if fullname == self.package:
            spec = importlib.machinery.ModuleSpec(
                fullname, self, is_package=True)
            spec.submodule_search_locations = []  # nothing real inside
            return spec
        if fullname == f'{self.package}.drn':
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(
            self,
            spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        module.__doc__ = f'Placeholder from {__name__}.'
        module.DRN = DRN
        module.__all__ = ['DRN']
        if module.__name__ == f'{self.package}.drn' and self.register:
            from mmaction.registry import MODELS
            MODELS.register_module('DRN', module=DRN, force=True)
        self.loaded.append(module.__name__)


_finder: Optional[PlaceholderFinder] = None


def install() -> PlaceholderFinder:
    """Append the placeholder finder for mmaction2's DRN. Idempotent.

    Returns:
        PlaceholderFinder: The finder; its ``loaded`` lists the modules it
        has provided (empty while ``mmaction.models`` is not imported, or
        when the installed mmaction2 has its own DRN).
    """
    global _finder
    if _finder is None:
        _finder = PlaceholderFinder(PACKAGE)
        sys.meta_path.append(_finder)
    return _finder
