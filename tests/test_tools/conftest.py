"""``run_tool``, ``run``: run a tool as its users do, in a subprocess;
``free_port`` for a distributed launch; ``dist_trained``: a 2-process
``dist_train.sh`` run of the requesting module's ``tiny`` config."""
import os
import socket
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


@pytest.fixture(scope='module')
def free_port() -> Callable[[], int]:
    """``free_port()``: a TCP port free on localhost now (a launcher's
    master port)."""

    def find() -> int:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            return sock.getsockname()[1]

    return find


@pytest.fixture(scope='module')
def run(repo_root: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run(args, **env)`` from the repository root, one OpenMP thread
    per process, stdout and stderr together."""

    def run_args(args, **env) -> subprocess.CompletedProcess:
        full_env = dict(
            os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable, **env)
        full_env.pop('GCNET_DEBUG', None)
        return subprocess.run(
            args,
            cwd=repo_root,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300)

    return run_args


@pytest.fixture(scope='module')
def dist_trained(tiny, run, free_port, tmp_path_factory) -> dict:
    """``tools/dist_train.sh CONFIG 2`` on the module's ``tiny`` config:
    two CPU processes over gloo. -> ``dict(result, work_dir)``."""
    work_dir = str(tmp_path_factory.mktemp('dist_work'))
    result = run(
        ['bash', 'tools/dist_train.sh', tiny, '2', '--work-dir', work_dir],
        PORT=str(free_port()))
    return dict(result=result, work_dir=work_dir)
