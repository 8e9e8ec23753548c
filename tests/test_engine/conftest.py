"""``fake_runner``: the few attributes of an mmengine Runner a hook reads."""
from types import SimpleNamespace
from typing import Callable, List

import pytest


class RecordingLogger:
    """Records what a hook logs, by level."""

    def __init__(self) -> None:
        self.infos: List[str] = []
        self.warnings: List[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture
def fake_runner() -> Callable[..., SimpleNamespace]:
    """``fake_runner(**attributes)``: a stand-in Runner with these
    attributes and a ``logger`` that keeps its ``info`` and ``warning``
    messages in ``logger.infos`` and ``logger.warnings``."""

    def make(**attributes) -> SimpleNamespace:
        return SimpleNamespace(logger=RecordingLogger(), **attributes)

    return make
