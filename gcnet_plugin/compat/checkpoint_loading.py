"""Load mmengine checkpoints under torch >= 2.6 without ``weights_only=False``.

mmengine 0.10.7 reads checkpoints with a bare ``torch.load``, which torch
>= 2.6 runs with ``weights_only=True``; that refuses the numpy objects and
message-hub buffers mmengine itself writes, so ``--resume`` and
``load_checkpoint`` of its own checkpoints fail. :func:`install` replaces,
in mmengine only, the two readers everything goes through:

- the local-file scheme of ``CheckpointLoader`` (``Runner.resume``,
  ``Runner.load_checkpoint``, ``load_from``, ``mmengine.runner.
  load_checkpoint``, ``init_cfg=dict(type='Pretrained')``);
- ``load_url`` in ``mmengine.runner.checkpoint`` (``http(s)://``,
  ``torchvision://``, ``open-mmlab://``, ``mmcls://``).

Both read with :func:`safe_torch_load`, i.e. ``torch.load`` with the
restricted unpickler of :mod:`.safe_pickle`. Global torch defaults are not
touched. The rarer schemes (``pavi://``, ``s3://``, a local
``open-mmlab://`` mirror) keep torch's ``weights_only=True`` loader: plain
weight files load there, anything else fails safely.

``torchvision://NAME`` (the paper configs' ImageNet weights) also
resolves without torchvision installed (:func:`load_from_torchvision`),
and a failed download is a :class:`CheckpointDownloadError` that says
where to put the file by hand.
"""
import os
import os.path as osp
import sys
import zipfile
from typing import IO, Any, Callable, Optional, Union
from urllib.parse import urlparse

import torch

from . import safe_pickle

__all__ = [
    'CheckpointDownloadError', 'safe_torch_load', 'load_from_local',
    'load_from_torchvision', 'load_url', 'install', 'torchvision_urls'
]

FileLike = Union[str, os.PathLike, IO[bytes]]
MapLocation = Optional[Union[str, torch.device, Callable, dict]]

_TRUE = ('1', 'y', 'yes', 'true')


class CheckpointDownloadError(OSError):
    """A checkpoint URL could not be downloaded."""


def _is_torchscript(f: FileLike) -> bool:
    """Whether ``f`` is a TorchScript archive (torch.load would jit it)."""
    if hasattr(f, 'seek'):
        position = f.tell()
        try:
            if not zipfile.is_zipfile(f):
                return False
            f.seek(position)
            with zipfile.ZipFile(f) as archive:
                names = archive.namelist()
        finally:
            f.seek(position)
    else:
        if not zipfile.is_zipfile(f):
            return False
        with zipfile.ZipFile(f) as archive:
            names = archive.namelist()
    return any(name.endswith('/constants.pkl') for name in names)


def safe_torch_load(f: FileLike,
                    map_location: MapLocation = None,
                    name: Optional[str] = None) -> Any:
    """``torch.load`` with the restricted unpickler of :mod:`.safe_pickle`.

    Args:
        f (str | PathLike | IO[bytes]): The checkpoint.
        map_location: Same as :func:`torch.load`.
        name (str, optional): Name of the checkpoint for error messages.
            Defaults to ``f`` when it is a path.

    Returns:
        The loaded object.

    Raises:
        CheckpointRefusedError: The pickle names a global outside the
            allow-list, or ``f`` is a TorchScript archive.
    """
    if name is None:
        is_path = isinstance(f, (str, os.PathLike))
        name = str(f) if is_path else '<buffer>'
    if os.getenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0').lower() in _TRUE:
        # The user asked torch for its own weights-only loader everywhere.
        return torch.load(f, map_location=map_location, weights_only=True)
    if _is_torchscript(f):
        raise safe_pickle.CheckpointRefusedError(
            f'{name}: refused to load a TorchScript archive as a '
            'checkpoint; use torch.jit.load if you trust it.')
    try:
        return torch.load(
            f,
            map_location=map_location,
            pickle_module=safe_pickle,
            weights_only=False)
    except safe_pickle.CheckpointRefusedError as exc:
        raise safe_pickle.CheckpointRefusedError(f'{name}: {exc}') from None


def load_from_local(filename: str, map_location: MapLocation) -> Any:
    """mmengine's local-file scheme, reading with :func:`safe_torch_load`.

    Args:
        filename (str): Local checkpoint path.
        map_location: Same as :func:`torch.load`.

    Returns:
        dict | OrderedDict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def load_url(url: str,
             model_dir: Optional[str] = None,
             map_location: MapLocation = None,
             progress: bool = True,
             check_hash: bool = False,
             file_name: Optional[str] = None) -> Any:
    """``torch.hub.load_state_dict_from_url`` reading with the safe loader.

    Downloads ``url`` once into ``model_dir`` (default
    ``<torch hub dir>/checkpoints``) and loads the cached file.

    Args:
        url (str): URL of the checkpoint.
        model_dir (str, optional): Download directory.
        map_location: Same as :func:`torch.load`.
        progress (bool): Show a progress bar. Defaults to True.
        check_hash (bool): Check the ``-<sha256 prefix>`` of the file name.
            Defaults to False.
        file_name (str, optional): Name of the cached file. Defaults to
            the last part of the URL.

    Returns:
        The loaded checkpoint.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or osp.basename(urlparse(url).path)
    cached_file = osp.join(model_dir, filename)
    if not osp.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = torch.hub.HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        try:
            torch.hub.download_url_to_file(
                url, cached_file, hash_prefix, progress=progress)
        except (OSError, RuntimeError) as exc:
            # URLError/HTTPError are OSErrors; a hash mismatch is a
            # RuntimeError. torch removes its partial download itself.
            raise CheckpointDownloadError(
                f'{url}: download failed ({exc}).\nCheck the URL and the '
                'network, or fetch the file elsewhere and put it at '
                f'{cached_file} (it is read from there once present).'
            ) from exc
    return safe_torch_load(cached_file, map_location=map_location)


def torchvision_urls() -> dict:
    """torchvision's model names -> weight URLs, as mmengine maps them.

    mmengine's ``torchvision://NAME`` scheme asks torchvision for its
    table, so it fails without torchvision installed, although the plain
    names (``resnet50``, ``resnet101``) resolve to the URLs of mmengine's
    own ``hub/torchvision_0.12.json``; that file is used then.

    Returns:
        dict[str, str]: Model name to URL.
    """
    from mmengine.runner import checkpoint as mmengine_checkpoint
    try:
        return mmengine_checkpoint.get_torchvision_models()
    except ImportError:
        import mmengine
        return mmengine.load(
            osp.join(mmengine.__path__[0], 'hub', 'torchvision_0.12.json'))


def load_from_torchvision(filename: str, map_location: MapLocation) -> Any:
    """mmengine's ``torchvision://`` scheme, also without torchvision.

    Args:
        filename (str): ``torchvision://NAME`` (or ``modelzoo://NAME``).
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint.
    """
    from mmengine.runner import checkpoint as mmengine_checkpoint
    name = filename.split('://', 1)[1]
    urls = torchvision_urls()
    if name not in urls:
        raise CheckpointDownloadError(
            f'{filename}: no torchvision model of that name (install '
            'torchvision for its newer names).')
    return mmengine_checkpoint.load_from_http(
        urls[name], map_location=map_location)


_installed = False


def install() -> None:
    """Route mmengine's local and URL checkpoint reads through the safe
    loader. Idempotent."""
    global _installed
    if _installed:
        return
    from mmengine.runner import checkpoint as mmengine_checkpoint
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes=('modelzoo://', 'torchvision://'),
        loader=load_from_torchvision,
        force=True)
    # load_from_http (and the torchvision://, open-mmlab://, mmcls://
    # schemes that call it) looks ``load_url`` up in this module.
    mmengine_checkpoint.load_url = load_url
    _installed = True
