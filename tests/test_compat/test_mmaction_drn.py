"""mmaction2 1.2.0 lacks mmaction.models.localizers.drn: the placeholder.

``import mmaction.models`` works after ``import gcnet_plugin``; building
DRN fails with a clear message; an installed DRN package is used as is.
"""
import importlib
import importlib.machinery
import subprocess
import sys
import textwrap

import pytest
from mmengine.registry import init_default_scope

import gcnet_plugin  # noqa: F401  (installs the placeholder finder)
from gcnet_plugin.compat import mmaction_drn
from gcnet_plugin.compat.mmaction_drn import (DRN, DRNUnavailableError,
                                              PlaceholderFinder)


def _real_drn_installed() -> bool:
    """Whether the installed mmaction2 has its own DRN package."""
    localizers = importlib.import_module('mmaction.models.localizers')
    return importlib.machinery.PathFinder.find_spec(
        mmaction_drn.PACKAGE, localizers.__path__) is not None


def test_mmaction_models_fails_without_the_fix():
    """What the fix is for (mmaction2 1.2.0 as published)."""
    res = subprocess.run([sys.executable, '-c', 'import mmaction.models'],
                         capture_output=True,
                         text=True)
    if _real_drn_installed():
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode != 0
        assert "No module named 'mmaction.models.localizers.drn'" in \
            res.stderr


def test_mmaction_models_imports_with_the_fix():
    import mmaction.models
    from mmaction.models import Recognizer3D, ResNet3dSlowOnly  # noqa: F401
    from mmaction.registry import MODELS
    drn = mmaction.models.localizers.DRN
    if _real_drn_installed():
        assert drn is not DRN
    else:
        assert drn is DRN and MODELS.get('DRN') is DRN
        assert mmaction_drn.install().loaded == [
            mmaction_drn.PACKAGE, f'{mmaction_drn.PACKAGE}.drn'
        ]


def test_building_drn_says_what_to_do():
    if _real_drn_installed():
        pytest.skip('the installed mmaction2 has its own DRN')
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    with pytest.raises(
            DRNUnavailableError,
            match=r'lacks the package mmaction\.models\.'
            r'localizers\.drn.*Install mmaction2 from'):
        MODELS.build(dict(type='DRN', vocab_size=10))


def test_install_is_idempotent():
    finder = mmaction_drn.install()
    assert mmaction_drn.install() is finder
    assert [f for f in sys.meta_path
            if isinstance(f, PlaceholderFinder)] == [finder]


def _write_package(root, name: str, with_drn: bool) -> None:
    """``name/localizers/__init__.py`` imports ``DRN`` as mmaction's."""
    pkg = root / name / 'localizers'
    pkg.mkdir(parents=True)
    (root / name / '__init__.py').write_text('')
    (pkg / '__init__.py').write_text('from .drn.drn import DRN\n')
    if with_drn:
        (pkg / 'drn').mkdir()
        (pkg / 'drn' / '__init__.py').write_text('')
        (pkg / 'drn' / 'drn.py').write_text(
            textwrap.dedent("""\
                class DRN:
                    real = True
                """))


@pytest.mark.parametrize('with_drn', [True, False])
def test_placeholder_only_where_the_package_is_missing(tmp_path, monkeypatch,
                                                       with_drn):
    name = f'fake_mmaction_{"with" if with_drn else "without"}_drn'
    _write_package(tmp_path, name, with_drn)
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = PlaceholderFinder(f'{name}.localizers.drn', register=False)
    monkeypatch.setattr(sys, 'meta_path', sys.meta_path + [finder])
    try:
        localizers = importlib.import_module(f'{name}.localizers')
        if with_drn:
            assert localizers.DRN.real is True
            assert finder.loaded == []
        else:
            assert localizers.DRN is DRN
            assert finder.loaded == [
                f'{name}.localizers.drn', f'{name}.localizers.drn.drn'
            ]
            with pytest.raises(DRNUnavailableError):
                localizers.DRN()
    finally:
        for module in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[module]
