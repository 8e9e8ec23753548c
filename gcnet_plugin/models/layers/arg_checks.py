"""Constructor argument checks shared by the blocks.

Each raises ``ValueError`` naming the bad value, before any layer is built.
"""
import math
from typing import Any, Optional, Sequence


def check_choice(name: str, value: Any, choices: Sequence) -> None:
    """``value`` must be one of ``choices``.

    Args:
        name (str): The argument's name, for the message.
        value: Its value.
        choices (Sequence): The allowed values.
    """
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got '
                         f'{value!r}')


def check_in_channels(in_channels: int) -> None:
    """``in_channels`` must be a positive int."""
    if (not isinstance(in_channels, int) or isinstance(in_channels, bool)
            or in_channels < 1):
        raise ValueError(f'in_channels must be a positive int, got '
                         f'{in_channels!r}')


def reduced_channels(in_channels: int, ratio: float, role: str) -> int:
    """R = int(C * ratio), checked: C a positive int, ratio > 0, R >= 1.

    Args:
        in_channels (int): C, channels of the block's input.
        ratio (float): The reduction ratio.
        role (str): What the R channels are (``'bottleneck'``,
            ``'embedding'``), for the message.

    Returns:
        int: R.
    """
    check_in_channels(in_channels)
    is_number = (
        isinstance(ratio, (int, float)) and not isinstance(ratio, bool)
        and math.isfinite(ratio))
    if not is_number or ratio <= 0:
        raise ValueError(f'ratio must be a number > 0, got {ratio!r}')
    channels = int(in_channels * ratio)
    if channels < 1:
        raise ValueError(f'ratio={ratio!r} gives int({in_channels} * '
                         f'{ratio!r}) = 0 {role} channels; use a larger '
                         'ratio')
    return channels


def embedding_channels(in_channels: int, ratio: Optional[float],
                       reduction: Optional[int]) -> int:
    """R of a non-local block: int(C * ratio), or mmcv's spelling.

    Args:
        in_channels (int): C, channels of the block's input.
        ratio (float, optional): R = int(C * ratio); ``None``: 1/2.
        reduction (int, optional): mmcv's R = max(C // reduction, 1); not
            with ``ratio``.

    Returns:
        int: R.
    """
    if reduction is None:
        ratio = 1 / 2 if ratio is None else ratio
        return reduced_channels(in_channels, ratio, 'embedding')
    if ratio is not None:
        raise ValueError(f'give ratio ({ratio!r}) or mmcv\'s reduction '
                         f'({reduction!r}), not both')
    check_in_channels(in_channels)
    is_int = isinstance(reduction, int) and not isinstance(reduction, bool)
    if not is_int or reduction < 1:
        raise ValueError(f'reduction must be a positive int, got '
                         f'{reduction!r}')
    return max(in_channels // reduction, 1)
