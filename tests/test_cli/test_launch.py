"""gcnet_plugin/cli/launch.sh: the CPU thread setting it hands torchrun."""
import os
import subprocess

import pytest

# Stands in for python: prints what torchrun would be started with.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "OMP_NUM_THREADS=${OMP_NUM_THREADS-unset}"
echo "GCNET_CPU_THREADS=${GCNET_CPU_THREADS-unset}"
echo "ARGS=$*"
"""


@pytest.mark.parametrize('nproc,user,omp,auto', [
    ('2', None, '1', 'auto'),
    ('2', '3', '3', 'unset'),
    ('1', None, 'unset', 'unset'),
])
def test_dist_train_marks_its_own_thread_setting(repo_root, tmp_path, nproc,
                                                 user, omp, auto):
    python = tmp_path / 'python'
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('OMP_NUM_THREADS', 'GCNET_CPU_THREADS')
    }
    env['PYTHON'] = str(python)
    if user is not None:
        env['OMP_NUM_THREADS'] = user
    out = subprocess.run(['bash', 'tools/dist_train.sh', 'CONFIG', nproc],
                         cwd=repo_root,
                         env=env,
                         capture_output=True,
                         text=True,
                         check=True).stdout.splitlines()
    assert out[:2] == [f'OMP_NUM_THREADS={omp}', f'GCNET_CPU_THREADS={auto}']
    assert out[2].startswith('ARGS=-m torch.distributed.run ')
    assert f'--nproc_per_node={nproc} ' in out[2]
