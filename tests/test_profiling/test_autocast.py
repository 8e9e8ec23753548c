"""The benchmarks' one switch for mixed precision."""
import torch

from gcnet_plugin.profiling.autocast import amp_dtype, maybe_autocast


def test_amp_dtype_defaults_per_device():
    assert amp_dtype('cuda') is torch.float16
    assert amp_dtype('cpu') is torch.bfloat16
    assert amp_dtype('cpu', 'float16') is torch.float16


def test_maybe_autocast_on_and_off():
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with maybe_autocast('cpu', None):
        assert (a @ b).dtype is torch.float32
    with maybe_autocast('cpu', torch.bfloat16):
        assert (a @ b).dtype is torch.bfloat16
