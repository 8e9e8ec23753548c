"""transformers >= 5 beside mmpretrain/mmaction2 1.2.0: their multimodal
models are switched off, so ``import mmdet.models`` works.

A stand-in transformers 5.0.0 on ``PYTHONPATH`` (:data:`FAKE`: every
module and name imports except two that transformers 5 removed)
reproduces what a GPU server's transformers 5.17 did: a ``TypeError``
while mmpretrain defines its multimodal models, which mmdet does not
catch.
"""
import os
import subprocess
import sys

import pytest

from gcnet_plugin.compat.multimodal_switch import multimodal_supported

FAKE = '''\
\"\"\"A stand-in transformers 5: every module and name imports, except the
helpers that transformers 5 removed.\"\"\"
import importlib.abc
import importlib.machinery
import sys
import types

REMOVED = {'find_pruneable_heads_and_indices', 'file_utils'}


def __getattr__(name):
    if name in REMOVED or name.startswith('__'):
        raise AttributeError(name)
    return type(name, (), {})


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):

    def find_spec(self, fullname, path, target=None):
        if (fullname.startswith(__name__ + '.')
                and fullname.rsplit('.', 1)[1] not in REMOVED):
            return importlib.machinery.ModuleSpec(
                fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())
'''
IMPORTS = ('import mmdet.models, mmpretrain.models, mmaction.models; '
           'import mmpretrain.utils.dependency as p, '
           'mmaction.utils.dependency as a; '
           'print(p.WITH_MULTIMODAL, a.WITH_MULTIMODAL)')


@pytest.mark.parametrize('version, supported', [(None, True), ('4.28.0', True),
                                                ('4.57.1', True),
                                                ('5.0.0', False),
                                                ('5.17.0', False)])
def test_multimodal_supported(version, supported):
    assert multimodal_supported(version) is supported


@pytest.fixture(scope='module')
def transformers5(tmp_path_factory):
    """A folder holding the stand-in ``transformers`` 5.0.0."""
    root = tmp_path_factory.mktemp('transformers5')
    (root / 'transformers').mkdir()
    (root / 'transformers' / '__init__.py').write_text(FAKE)
    info = root / 'transformers-5.0.0.dist-info'
    info.mkdir()
    info.joinpath('METADATA').write_text(
        'Metadata-Version: 2.1\nName: transformers\nVersion: 5.0.0\n')
    return root


def _python(code: str, path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          env=dict(
                              os.environ,
                              PYTHONPATH=str(path),
                              OMP_NUM_THREADS='1'))


def test_mmdet_models_fail_without_the_switch(transformers5):
    """What the fix is for."""
    res = _python('import mmdet.models', transformers5)
    assert res.returncode != 0
    assert 'TypeError' in res.stderr


def test_mmdet_models_import_with_the_switch(transformers5):
    res = _python('import gcnet_plugin; ' + IMPORTS, transformers5)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ['False', 'False']
