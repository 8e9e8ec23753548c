"""Narrow fixes for the fixed stack (mmengine 0.10.7, mmcv 2.1.0, mmdet
3.3.0) on current PyTorch.

Importing :mod:`gcnet_plugin` installs the checkpoint fix: mmengine's local
and URL checkpoint readers load through a restricted unpickler
(:mod:`.safe_pickle`, :mod:`.checkpoint_loading`), so ``--resume`` and
``load_checkpoint`` work under torch >= 2.6 while a checkpoint that would
run code is refused. The tools also use :mod:`.checkpoint_fit` (refuse a
checkpoint that does not fit the model) and :mod:`.cpu_dist` (gloo
distributed runs without CUDA). :mod:`.mmaction_drn` lets ``import
mmaction.models`` work on mmaction2 1.2.0, which ships without its DRN
localizer. :mod:`.multimodal_switch` lets ``import mmdet.models``
(mmpretrain's and mmaction2's too) work beside transformers >= 5.
"""
from .checkpoint_fit import (CheckpointFit, CheckpointFitHook,
                             CheckpointMismatchError, check_checkpoint_fits)
from .checkpoint_loading import CheckpointDownloadError
from .checkpoint_loading import install as install_checkpoint_loading
from .checkpoint_loading import safe_torch_load
from .cpu_dist import (CPUDistributedDataParallel, SyncBNError, check_sync_bn,
                       close_dist, find_sync_bn, setup_cpu_dist)
from .mmaction_drn import install as install_mmaction_drn
from .multimodal_switch import install as install_multimodal_switch
from .safe_pickle import CheckpointRefusedError

install_checkpoint_loading()
install_mmaction_drn()
# before gcnet_plugin.models imports mmdet's models (they import mmpretrain's)
install_multimodal_switch()

__all__ = [
    'CheckpointDownloadError', 'CheckpointFit', 'CheckpointFitHook',
    'CheckpointMismatchError', 'CheckpointRefusedError',
    'CPUDistributedDataParallel', 'SyncBNError', 'check_checkpoint_fits',
    'check_sync_bn', 'close_dist', 'find_sync_bn',
    'install_checkpoint_loading', 'safe_torch_load', 'setup_cpu_dist'
]
