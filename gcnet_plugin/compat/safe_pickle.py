"""A restricted unpickler for the checkpoints mmengine writes.

PyTorch >= 2.6 loads with ``weights_only=True``, whose unpickler rejects
what mmengine 0.10.7 puts into its checkpoints (numpy arrays and scalars in
``meta``, the message hub's ``HistoryBuffer`` objects, ``Counter`` in the
schedulers). Allow-listing those types in torch's unpickler is not enough:
the pickle protocol 2 that ``torch.save`` uses writes the buffer's
statistic methods as ``builtins.getattr(HistoryBuffer, 'min')``, and a bare
``getattr`` would reopen the door that ``weights_only`` closes (``getattr(
os, 'system')`` and so on).

This module is a ``pickle_module`` for :func:`torch.load`. Its
:class:`Unpickler` admits only the globals named in :data:`ALLOWED_GLOBALS`
(the list was built by training mmengine/mmdet models for a few iterations
and reading their checkpoints with :mod:`pickletools`), a ``getattr``
guarded to the (class, name) pairs in :func:`allowed_getattr_pairs` and an
``encode`` guarded to ``str -> latin1`` (how protocol 2 stores ``bytes``).
Anything else raises :class:`CheckpointRefusedError` while the global is
being looked up, so nothing it names is imported or called.
"""
import _compat_pickle
import codecs
import importlib
import io
import pickle
from typing import IO, Any, Callable, Dict, FrozenSet, Tuple

__all__ = [
    'ALLOWED_GLOBALS', 'CheckpointRefusedError', 'Unpickler', 'load', 'loads',
    'allowed_getattr_pairs'
]

UnpicklingError = pickle.UnpicklingError

_NUMPY_MULTIARRAY = ('numpy._core.multiarray', 'numpy.core.multiarray')

# (module, name) as written in the pickle -> modules to try, in order, for
# the object of that name. numpy 2 moved ``numpy.core`` to ``numpy._core``;
# checkpoints written with either name load with either numpy.
ALLOWED_GLOBALS: Dict[Tuple[str, str], Tuple[str, ...]] = {
    # Containers and scalars of the standard library.
    ('collections', 'OrderedDict'): ('collections', ),
    ('collections', 'Counter'): ('collections', ),
    ('collections', 'defaultdict'): ('collections', ),
    ('collections', 'deque'): ('collections', ),
    ('builtins', 'set'): ('builtins', ),
    ('builtins', 'frozenset'): ('builtins', ),
    ('builtins', 'complex'): ('builtins', ),
    ('builtins', 'slice'): ('builtins', ),
    ('builtins', 'range'): ('builtins', ),
    ('builtins', 'bytearray'): ('builtins', ),
    ('builtins', 'list'): ('builtins', ),
    ('builtins', 'dict'): ('builtins', ),
    ('builtins', 'tuple'): ('builtins', ),
    ('builtins', 'int'): ('builtins', ),
    ('builtins', 'float'): ('builtins', ),
    ('builtins', 'str'): ('builtins', ),
    ('builtins', 'bool'): ('builtins', ),
    # numpy arrays, dtypes and scalars (``meta``, ``HistoryBuffer``).
    ('numpy', 'ndarray'): ('numpy', ),
    ('numpy', 'dtype'): ('numpy', ),
    ('numpy._core.multiarray', '_reconstruct'):
    _NUMPY_MULTIARRAY,
    ('numpy.core.multiarray', '_reconstruct'):
    _NUMPY_MULTIARRAY,
    ('numpy._core.multiarray', 'scalar'):
    _NUMPY_MULTIARRAY,
    ('numpy.core.multiarray', 'scalar'):
    _NUMPY_MULTIARRAY,
    # torch's own tensor rebuild functions and value types. Storage types
    # are resolved by torch.load itself before they reach this unpickler.
    ('torch._utils', '_rebuild_tensor'): ('torch._utils', ),
    ('torch._utils', '_rebuild_tensor_v2'): ('torch._utils', ),
    ('torch._utils', '_rebuild_parameter'): ('torch._utils', ),
    ('torch._utils', '_rebuild_parameter_with_state'): ('torch._utils', ),
    ('torch._tensor', '_rebuild_from_type_v2'): ('torch._tensor', ),
    ('torch', 'Tensor'): ('torch', ),
    ('torch.nn.parameter', 'Parameter'): ('torch.nn.parameter', ),
    ('torch', 'Size'): ('torch', ),
    ('torch', 'device'): ('torch', ),
    ('torch', 'UntypedStorage'): ('torch', ),
    # mmengine's message hub state.
    ('mmengine.logging.history_buffer', 'HistoryBuffer'):
    ('mmengine.logging.history_buffer', ),
}

# Protocol 2 writes these as ``getattr(HistoryBuffer, 'min')``; the
# methods are those registered by ``HistoryBuffer.register_statistics``.
_HISTORY_BUFFER_METHODS = frozenset({'min', 'max', 'mean', 'current'})


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint's pickle names something outside the allow-list.

    Raised before the named object is imported or called: the checkpoint
    is refused, not executed.
    """


def _refuse(what: str) -> CheckpointRefusedError:
    return CheckpointRefusedError(
        f'Refused to load the checkpoint: its pickle asks for {what}, which '
        'is not on the allow-list of types that mmengine checkpoints '
        'contain (gcnet_plugin.compat.safe_pickle). Nothing it names was '
        'imported or run. If you trust the file, load it yourself with '
        'torch.load(path, weights_only=False).')


def allowed_getattr_pairs() -> Dict[type, FrozenSet[str]]:
    """(class -> attribute names) that the guarded ``getattr`` admits.

    Returns:
        dict: ``HistoryBuffer`` mapped to its default statistic methods and
        those registered through ``HistoryBuffer.register_statistics`` by
        installed code (never by the checkpoint).
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    registered = frozenset(HistoryBuffer._statistics_methods)
    return {HistoryBuffer: _HISTORY_BUFFER_METHODS | registered}


def _describe(obj: Any) -> str:
    if isinstance(obj, type):
        return f'{obj.__module__}.{obj.__qualname__}'
    return f'<{type(obj).__module__}.{type(obj).__qualname__} object>'


def _guarded_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to the pairs of :func:`allowed_getattr_pairs`."""
    for cls, names in allowed_getattr_pairs().items():
        if obj is cls and isinstance(name, str) and name in names:
            return getattr(obj, name)
    raise _refuse(f'getattr({_describe(obj)}, {name!r})')


def _guarded_encode(obj: Any,
                    encoding: str = 'utf-8',
                    errors: str = 'strict') -> bytes:
    """``_codecs.encode`` limited to ``str -> latin1`` (protocol-2 bytes)."""
    if (isinstance(obj, str) and isinstance(encoding, str)
            and codecs.lookup(encoding).name == 'iso8859-1'
            and errors == 'strict'):
        return obj.encode('latin1')
    raise _refuse(f'_codecs.encode(<{type(obj).__name__}>, {encoding!r})')


def _torch_dtype(name: str) -> Any:
    import torch
    value = getattr(torch, name, None)
    return value if isinstance(value, torch.dtype) else None


_GUARDED: Dict[Tuple[str, str], Callable] = {
    ('builtins', 'getattr'): _guarded_getattr,
    ('_codecs', 'encode'): _guarded_encode,
}


def find_global(module: str, name: str) -> Any:
    """Resolve a global of the pickle if it is allow-listed.

    Args:
        module (str): Module name as written in the pickle.
        name (str): Attribute name as written in the pickle.

    Returns:
        The allowed object (or its guarded stand-in).

    Raises:
        CheckpointRefusedError: The global is not on the allow-list.
    """
    # Protocol 2 writes Python 2 names (``__builtin__``); map them the way
    # pickle itself does before checking the list.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    key = (module, name)
    if key in _GUARDED:
        return _GUARDED[key]
    if module == 'torch' and _torch_dtype(name) is not None:
        return _torch_dtype(name)
    if key not in ALLOWED_GLOBALS:
        raise _refuse(f'the global {module}.{name}')
    error = None
    for candidate in ALLOWED_GLOBALS[key]:
        try:
            return getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError) as exc:
            error = exc
    raise pickle.UnpicklingError(
        f'{module}.{name} is allowed but cannot be imported: {error}')


class Unpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose globals come from :func:`find_global`."""

    def find_class(self, module: str, name: str) -> Any:
        return find_global(module, name)


def load(file: IO[bytes], **kwargs: Any) -> Any:
    """Like :func:`pickle.load`, through the restricted :class:`Unpickler`.

    Args:
        file (IO[bytes]): Binary file object to read the pickle from.
        **kwargs: Passed to :class:`pickle.Unpickler` (``encoding`` ...).

    Returns:
        The unpickled object.
    """
    return Unpickler(file, **kwargs).load()


def loads(data: bytes, **kwargs: Any) -> Any:
    """Like :func:`pickle.loads`, through the restricted :class:`Unpickler`.

    Args:
        data (bytes): The pickle.
        **kwargs: Passed to :class:`pickle.Unpickler`.

    Returns:
        The unpickled object.
    """
    return load(io.BytesIO(data), **kwargs)
