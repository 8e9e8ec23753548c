"""Distributed training and testing on CPU processes (gloo).

mmengine 0.10.7 assumes CUDA in two places of a distributed run:
``init_dist`` calls ``torch.cuda.set_device(local_rank)`` unconditionally
(``torch._C`` has no ``_cuda_setDevice`` in a CPU build), and
``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to DDP, which
DDP rejects for a CPU module. :func:`setup_cpu_dist`, called by
``tools/train.py`` and ``tools/test.py`` when CUDA is unavailable and a
launcher is set, initialises the process group with gloo (mmengine's own
``init_dist``, with ``set_device`` skipped; the Runner then sees an
initialised group and leaves it alone) and selects
:class:`CPUDistributedDataParallel`, which drops ``device_ids`` for CPU
modules. Nothing changes on a machine with CUDA.

SyncBN cannot synchronise CPU tensors: :func:`check_sync_bn` refuses a
SyncBN model in a distributed CPU run, naming the config keys to switch
to BN. (A single process needs nothing: the Runner reverts SyncBN to BN.)
"""
import contextlib
from typing import Iterator, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dist import init_dist, is_distributed
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

__all__ = [
    'CPUDistributedDataParallel', 'SyncBNError', 'setup_cpu_dist',
    'find_sync_bn', 'check_sync_bn', 'close_dist'
]

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN', 'SyncBatchNorm')
DDP_TYPES = ('MMDistributedDataParallel', 'DistributedDataParallel')


class SyncBNError(RuntimeError):
    """A SyncBN model in a distributed run without CUDA."""


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps a CPU module.

    DDP needs ``device_ids=None`` for a CPU module; the Runner always
    passes ``[LOCAL_RANK]``. This wrapper drops them when the module's
    parameters are on the CPU and otherwise behaves as its parent.

    Args:
        module (nn.Module): Model to wrap.
        device_ids (Sequence[int], optional): CUDA devices (ignored for a
            CPU module).
        **kwargs: Passed to ``MMDistributedDataParallel``.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            device_ids = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, device_ids=device_ids, **kwargs)


@contextlib.contextmanager
def _skip_cuda_set_device() -> Iterator[None]:
    original = torch.cuda.set_device
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        torch.cuda.set_device = original


def find_sync_bn(cfg: Config) -> List[str]:
    """Dotted config paths of every ``norm_cfg`` whose type is SyncBN.

    Args:
        cfg (Config): The full config.

    Returns:
        list[str]: e.g. ``['model.backbone.norm_cfg.type']``.
    """
    found: List[str] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            if node.get('type') in SYNC_BN_TYPES:
                found.append(f'{path}.type')
            for key, value in node.items():
                walk(value, f'{path}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}.{i}')

    walk(cfg.get('model', {}), 'model')
    return found


def check_sync_bn(cfg: Config) -> None:
    """Refuse SyncBN in a distributed run without CUDA.

    A single process needs no check: mmengine's Runner reverts SyncBN to
    BN when it is not distributed (and logs that it does).

    Args:
        cfg (Config): The full config.

    Raises:
        SyncBNError: The model uses SyncBN; the message names the
            ``--cfg-options`` that switch it to BN.
    """
    paths = find_sync_bn(cfg)
    if paths:
        options = ' '.join(f'{path}=BN' for path in paths)
        raise SyncBNError(
            'SyncBN needs CUDA: this config uses SyncBN in '
            f'{", ".join(paths)}, which cannot synchronise CPU processes. '
            f'Train on CPU with plain BN: --cfg-options {options}')


def setup_cpu_dist(cfg: Config) -> None:
    """Prepare a distributed run on CPU processes. No-op with CUDA.

    Initialises the process group with gloo through mmengine's
    ``init_dist`` (``cfg.launcher``, other ``env_cfg.dist_cfg`` keys kept)
    and makes the Runner wrap the model in
    :class:`CPUDistributedDataParallel`.

    Args:
        cfg (Config): The full config; ``launcher`` must be set. Modified
            in place (``env_cfg.dist_cfg.backend``, ``model_wrapper_cfg``).
    """
    launcher = cfg.get('launcher', 'none')
    if torch.cuda.is_available() or launcher == 'none':
        return
    check_sync_bn(cfg)
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = dict(env_cfg.get('dist_cfg', {}))
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    wrapper_cfg = cfg.get('model_wrapper_cfg', None)
    if wrapper_cfg is None:
        # What Runner.wrap_model builds without a model_wrapper_cfg.
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif wrapper_cfg.get('type', 'MMDistributedDataParallel') in DDP_TYPES:
        wrapper_cfg['type'] = 'CPUDistributedDataParallel'
    if not is_distributed():
        with _skip_cuda_set_device():
            init_dist(launcher, **dist_cfg)


def close_dist() -> None:
    """Destroy the default process group, if there is one.

    Called by the tools after training or testing. Left to interpreter exit,
    a gloo group's threads can be torn down in the wrong order and a rank
    aborts after a successful run ("terminate called without an active
    exception", SIGABRT; seen with torch 2.14.1 on 2 CPU processes), which
    fails the whole launch.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
