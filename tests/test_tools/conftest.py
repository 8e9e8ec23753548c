"""``run_tool``: run a tool as its users do, in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture
def run_tool(repo_root: Path) -> Callable[..., str]:
    """``run_tool('analysis_tools/get_flops.py', *args)`` -> its stdout.

    Runs ``<this python> tools/<script> args`` from the repository root,
    with one OpenMP thread, and fails the test with the end of stderr if
    the tool exits non-zero.
    """

    def run(script: str, *args, timeout: float = 300) -> str:
        env = dict(os.environ, OMP_NUM_THREADS='1')
        proc = subprocess.run(
            [sys.executable,
             str(Path('tools') / script), *map(str, args)],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    return run
