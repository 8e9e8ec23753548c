"""Saved-for-backward bytes and peak memory of a call."""
import pytest
import torch
from torch import nn

from gcnet_plugin.profiling.memory import peak_bytes, saved_bytes


class _Square(nn.Module):
    """y = (x * w)^2: autograd keeps x (excluded) and x * w."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w)**2


def test_saved_bytes_exclude_input_and_parameters():
    x = torch.randn(4, 256, requires_grad=True)
    # mul saves x and w (excluded); pow saves the product (saved)
    assert saved_bytes(_Square(), x) == 4 * 256 * 4


def test_cpu_peak_grows_with_the_temporaries():

    def step(rows: int) -> int:

        def fn() -> None:
            x = torch.randn(rows, 1024, requires_grad=True)
            (x * 2).relu().sum().backward()

        return peak_bytes(fn, 'cpu')

    small, large = step(256), step(1024)
    if small is None:  # torch's private memory timeline is unavailable
        pytest.skip('no CPU memory timeline in this torch')
    # at least one [rows, 1024] fp32 temporary; 4x the rows, 4x the peak
    assert small >= 256 * 1024 * 4
    assert large == pytest.approx(4 * small, rel=0.01)
