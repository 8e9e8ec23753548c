"""``import mmdet.models`` (and mmpretrain's and mmaction2's models)
beside transformers >= 5.

mmpretrain 1.2.0 and mmaction2 1.2.0 load their multimodal models (BLIP,
OFA, VindLU, ...) whenever transformers >= 4.28 is installed. Those
import helpers that transformers 5 no longer has
(``find_pruneable_heads_and_indices`` in ``transformers.modeling_utils``,
``transformers.file_utils``, ...), and the import fails, with ``TypeError:
NoneType takes no arguments`` in mmpretrain. mmdet 3.3.0's ReID
preprocessor imports mmpretrain's models, so ``import mmdet.models``
fails with it (seen with transformers 5.17 on a GPU server's python).

:func:`install` turns the multimodal models off there through each
library's own switch, ``WITH_MULTIMODAL`` in ``<library>.utils.dependency``
(the library then registers placeholders that say what is missing). None
of the paper's models is multimodal. It must run before the libraries'
``models`` are imported.
"""
import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import List, Optional

__all__ = ['LIBRARIES', 'install', 'multimodal_supported']

# transformers' first major release without the helpers they import
FIRST_UNSUPPORTED = 5
LIBRARIES = ('mmpretrain', 'mmaction')


def multimodal_supported(transformers_version: Optional[str]) -> bool:
    """Whether the multimodal models of mmpretrain 1.2.0 and mmaction2
    1.2.0 import beside this transformers (None: not installed, so the
    libraries keep them off themselves)."""
    if transformers_version is None:
        return True
    return int(transformers_version.split('.')[0]) < FIRST_UNSUPPORTED


def install() -> List[str]:
    """Switch the multimodal models off beside an unsupported
    transformers; returns the libraries switched off."""
    try:
        installed: Optional[str] = version('transformers')
    except PackageNotFoundError:
        installed = None
    if multimodal_supported(installed):
        return []
    switched = []
    for library in LIBRARIES:
        dependency = importlib.import_module(f'{library}.utils.dependency')
        if dependency.WITH_MULTIMODAL:
            dependency.WITH_MULTIMODAL = False
            switched.append(library)
    return switched
