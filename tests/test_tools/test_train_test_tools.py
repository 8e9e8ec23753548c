"""tools/dist_train.sh on two nodes, train.py --resume, test.py and
slurm_test.sh on a checkpoint served over HTTP, and the tools' errors, end
to end on CPU.

The quickstart model (GC R50 Mask R-CNN at a quarter of the width) trains
on generated 128x128 images. Each tool runs as its users run it, in a
subprocess, with one OpenMP thread per process (two processes on two
cores). The module's runs share one training: two "nodes" (two
``dist_train.sh`` of one process each, ``NNODES=2``, gloo over
127.0.0.1) smoke-train it (``--smoke 4``).
"""
import http.server
import os
import os.path as osp
import socket
import stat
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Callable

import pytest
import torch

from gcnet_plugin.compat import safe_torch_load

# Records the images each rank trains on (two-node test).
RECORD_HOOK = """from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class RecordImagesHook(Hook):

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        path = f'{self.out_dir}/rank{runner.rank}.txt'
        with open(path, 'a') as f:
            for sample in data_batch['data_samples']:
                f.write(f'{sample.img_id}\\n')
"""
RECORDING_CONFIG = """_base_ = {tiny!r}
custom_imports = dict(
    imports=['gcnet_plugin', 'record_images_hook'],
    allow_failed_imports=False)
custom_hooks = [dict(type='RecordImagesHook', out_dir={out_dir!r})]
"""

# Slurm's srun, standing in: checks the options slurm_*.sh pass and their
# environment, records them, then starts the tasks here with the SLURM_*
# variables srun sets. scontrol names the (one) node.
SRUN = r"""#!/usr/bin/env bash
echo "$*" > "$SRUN_LOG"
echo "PYTHONPATH=$PYTHONPATH" >> "$SRUN_LOG"
while [[ $1 == -* ]]; do
  case $1 in
    -p) partition=$2; shift 2 ;;
    --job-name=*) job=${1#*=}; shift ;;
    --gres=gpu:*) gres=${1#*:}; shift ;;
    --ntasks=*) ntasks=${1#*=}; shift ;;
    --ntasks-per-node=*) per_node=${1#*=}; shift ;;
    --cpus-per-task=*) cpus=${1#*=}; shift ;;
    --kill-on-bad-exit=1) shift ;;
    *) echo "srun stand-in: unexpected option $1" >&2; exit 90 ;;
  esac
done
for v in partition job gres ntasks per_node cpus; do
  [[ -n ${!v} ]] || { echo "srun stand-in: no $v" >&2; exit 91; }
done
[[ $2 == -u && $3 == *tools/t*.py ]] || { echo "srun: $*" >&2; exit 92; }
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$((i % per_node)) SLURM_NTASKS=$ntasks \
  SLURM_NODELIST=node0 SLURM_JOB_NAME=$job SLURM_CPUS_PER_TASK=$cpus "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
"""
SCONTROL = '#!/usr/bin/env bash\necho 127.0.0.1\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _env(**env) -> dict:
    full_env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        NO_PROXY='127.0.0.1,localhost',
        no_proxy='127.0.0.1,localhost')
    full_env.pop('GCNET_DEBUG', None)
    full_env.update(env)
    return full_env


@pytest.fixture(scope='module')
def run_command(repo_root: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run_command(args, timeout=300, **env)`` from the repository root,
    stdout and stderr together in ``.stdout``."""

    def run(args, timeout: int = 300, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            cwd=repo_root,
            env=_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout)

    return run


def assert_one_error_last(result, *fragments: str) -> str:
    """One error message, the last output, no traceback, status 2."""
    out = result.stdout
    assert result.returncode == 2, out[-4000:]
    assert out.count(': error: ') == 1, out[-4000:]
    assert 'Traceback' not in out and 'ChildFailedError' not in out, out
    start = out.rfind('\n', 0, out.index(': error: ')) + 1
    message = out[start:]
    assert message.rstrip().endswith('GCNET_DEBUG=1 shows the traceback)')
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture(scope='module')
def tiny_config(tiny_quickstart, tmp_path_factory) -> str:
    return tiny_quickstart(
        tmp_path_factory.mktemp('tools'), 8, 4, image_size=(128, 128))


@pytest.fixture(scope='module')
def two_nodes(tiny_config, repo_root, tmp_path_factory) -> dict:
    """``NNODES=2 NODE_RANK=0|1 tools/dist_train.sh CONFIG 1 --smoke 4``,
    each node with its own work directory."""
    root = tmp_path_factory.mktemp('two_nodes')
    (root / 'record_images_hook.py').write_text(RECORD_HOOK)
    config = root / 'recording.py'
    config.write_text(
        RECORDING_CONFIG.format(tiny=tiny_config, out_dir=str(root)))
    port = str(_free_port())
    nodes = []
    for rank in (0, 1):
        work_dir = str(root / f'node{rank}')
        env = _env(
            NNODES='2',
            NODE_RANK=str(rank),
            MASTER_ADDR='127.0.0.1',
            PORT=port,
            PYTHONPATH=str(root))
        nodes.append(
            (work_dir,
             subprocess.Popen([
                 'bash', 'tools/dist_train.sh',
                 str(config), '1', '--work-dir', work_dir, '--smoke', '4'
             ],
                              cwd=repo_root,
                              env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              text=True)))
    outputs = [proc.communicate(timeout=300)[0] for _, proc in nodes]
    return dict(
        root=root,
        codes=[proc.returncode for _, proc in nodes],
        outputs=outputs,
        work_dirs=[work_dir for work_dir, _ in nodes],
        ckpt=osp.join(nodes[0][0], 'epoch_1.pth'))


def test_two_nodes_train_on_different_images(two_nodes):
    assert two_nodes['codes'] == [0, 0], two_nodes['outputs'][0][-3000:] + \
        two_nodes['outputs'][1][-3000:]
    log = two_nodes['outputs'][0]  # rank 0 logs
    assert 'Distributed training: True' in log
    assert "backend='gloo'" in log
    assert 'Batch: 2 processes x 2 images = 4 images per optimizer step' \
        in log
    # --smoke 4: 4 images / (2 processes x batch 2) = 1 iteration, then
    # the val split's first 4 images.
    assert 'Epoch(train) [1][1/1]' in log
    assert 'coco/bbox_mAP:' in log
    seen = [(two_nodes['root'] / f'rank{r}.txt').read_text().split()
            for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 2
    assert not set(seen[0]) & set(seen[1])  # different images
    assert len(set(seen[0]) | set(seen[1])) == 4


def test_two_nodes_write_the_checkpoint_once(two_nodes):
    assert two_nodes['codes'] == [0, 0]
    ckpt = safe_torch_load(two_nodes['ckpt'])
    assert ckpt['meta']['iter'] == 1 and ckpt['meta']['epoch'] == 1
    assert any('context_block' in key for key in ckpt['state_dict'])
    node1 = two_nodes['work_dirs'][1]
    assert not [
        name for _, _, names in os.walk(node1)
        for name in names if name.endswith('.pth')
    ]


def test_train_resume_continues_from_the_checkpoint(two_nodes, tiny_config,
                                                    run_command, tmp_path):
    # One process, batch 2, 8 images: epoch 2 runs iterations 2..5.
    result = run_command([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir',
        str(tmp_path), '--resume', two_nodes['ckpt'], '--cfg-options',
        'train_cfg.max_epochs=2'
    ])
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'resumed epoch: 1, iter: 1' in result.stdout
    assert 'Epoch(train) [2][4/4]' in result.stdout
    ckpt = safe_torch_load(str(tmp_path / 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 5


class _SystemPayload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(scope='module')
def served(two_nodes, tmp_path_factory) -> dict:
    """The trained checkpoint and a code-running copy on 127.0.0.1."""
    folder = tmp_path_factory.mktemp('served')
    ckpt = safe_torch_load(two_nodes['ckpt'])
    torch.save(ckpt, str(folder / 'gc_quick-0123abcd.pth'))
    marker = folder / 'pwned'
    ckpt['meta']['payload'] = _SystemPayload(str(marker))
    torch.save(ckpt, str(folder / 'evil.pth'))
    handler = partial(
        http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f'http://127.0.0.1:{server.server_address[1]}'
    yield dict(
        good=f'{url}/gc_quick-0123abcd.pth',
        evil=f'{url}/evil.pth',
        marker=marker)
    server.shutdown()
    thread.join()


@pytest.fixture
def fake_slurm(tmp_path) -> dict:
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return dict(
        PATH=f'{bin_dir}:{os.environ["PATH"]}',
        SRUN_LOG=str(tmp_path / 'srun.log'),
        MASTER_PORT=str(_free_port()))


@pytest.fixture
def run_test_py(run_command, tiny_config,
                tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    """``run_test_py(checkpoint, *options)``: tools/test.py on the tiny
    config, its work directory and $TORCH_HOME this test's tmp_path."""

    def run(checkpoint: str, *options: str) -> subprocess.CompletedProcess:
        command = [sys.executable, 'tools/test.py', tiny_config, checkpoint]
        return run_command(
            command + ['--work-dir', str(tmp_path), *options],
            TORCH_HOME=str(tmp_path / 'hub'))

    return run


def test_slurm_test_evaluates_a_published_style_url(served, tiny_config,
                                                    fake_slurm, run_command,
                                                    tmp_path):
    """slurm_test.sh CONFIG URL: 2 tasks, the download through the safe
    loader and the fit check, COCO metrics."""
    result = run_command([
        'bash', 'tools/slurm_test.sh', 'part', 'job', tiny_config,
        served['good'], '--work-dir',
        str(tmp_path / 'test')
    ],
                         GPUS='2',
                         GPUS_PER_NODE='2',
                         CPUS_PER_TASK='1',
                         TORCH_HOME=str(tmp_path / 'hub'),
                         **fake_slurm)
    assert result.returncode == 0, result.stdout[-4000:]
    srun_args, pythonpath = open(fake_slurm['SRUN_LOG']).read().splitlines()
    assert srun_args.startswith(
        '-p part --job-name=job --gres=gpu:2 --ntasks=2 --ntasks-per-node=2 '
        f'--cpus-per-task=1 --kill-on-bad-exit=1 {sys.executable} -u ')
    assert srun_args.endswith(f' tools/test.py {tiny_config} '
                              f'{served["good"]} --launcher=slurm '
                              f'--work-dir {tmp_path / "test"}')
    assert pythonpath.startswith('PYTHONPATH=tools/..:')
    assert 'Distributed training: True' in result.stdout
    # Downloaded once, into torch's hub folder ($TORCH_HOME/hub).
    assert osp.isfile(tmp_path / 'hub' / 'hub' / 'checkpoints' /
                      'gc_quick-0123abcd.pth')
    assert result.stdout.count('Downloading: "http://127.0.0.1:') == 1
    assert 'coco/bbox_mAP:' in result.stdout
    assert 'coco/segm_mAP:' in result.stdout
    assert 'does not fit' not in result.stdout


def test_test_py_refuses_a_url_checkpoint_that_does_not_fit(
        served, run_test_py):
    # R50 weights under an R101 config: layer3.6 onwards would stay random.
    result = run_test_py(served['good'], '--cfg-options',
                         'model.backbone.depth=101')
    assert_one_error_last(
        result, f'tools/test.py: error: {served["good"]} does not fit the '
        'model of this config:', 'model keys missing from the checkpoint: '
        'backbone.layer3.6.conv1.weight', 'pass --allow-partial')
    assert 'coco/bbox_mAP' not in result.stdout


def test_test_py_refuses_a_url_checkpoint_that_runs_code(served, run_test_py):
    result = run_test_py(served['evil'])
    assert_one_error_last(result, 'evil.pth: Refused to load the checkpoint',
                          'posix.system')
    assert not served['marker'].exists()


def test_train_py_refuses_misspelled_cfg_options(tiny_config, run_command,
                                                 tmp_path):
    result = run_command([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_epoch=2',
        'backbone.norm_cfg.typ=BN'
    ])
    assert_one_error_last(result, "'train_cfg.max_epoch' is not a key of",
                          'Did you mean train_cfg.max_epochs?',
                          'Did you mean model.backbone.norm_cfg.type?')
    assert not os.listdir(tmp_path)  # stopped before the Runner


def test_dist_train_prints_a_data_error_once_and_last(tiny_config, run_command,
                                                      tmp_path):
    missing = str(tmp_path / 'no_coco')
    result = run_command([
        'bash', 'tools/dist_train.sh', tiny_config, '2', '--work-dir',
        str(tmp_path / 'work'), '--data-root', missing
    ],
                         PORT=str(_free_port()))
    assert_one_error_last(
        result, 'tools/train.py: error: train_dataloader.dataset.data_root: '
        f'data root not found: {missing}/', '--data-root DIR')


@pytest.mark.slow
def test_slurm_train_smoke_runs_two_tasks(tiny_config, fake_slurm, run_command,
                                          tmp_path):
    work_dir = str(tmp_path / 'work')
    result = run_command([
        'bash', 'tools/slurm_train.sh', 'part', 'job', tiny_config, work_dir,
        '--smoke', '4'
    ],
                         GPUS='2',
                         GPUS_PER_NODE='2',
                         CPUS_PER_TASK='1',
                         **fake_slurm)
    assert result.returncode == 0, result.stdout[-4000:]
    srun_args = open(fake_slurm['SRUN_LOG']).read().splitlines()[0]
    assert srun_args.startswith(
        '-p part --job-name=job --gres=gpu:2 --ntasks=2 --ntasks-per-node=2 '
        f'--cpus-per-task=1 --kill-on-bad-exit=1 {sys.executable} -u ')
    assert srun_args.endswith(f' tools/train.py {tiny_config} '
                              f'--work-dir={work_dir} --launcher=slurm '
                              '--smoke 4')
    assert 'Batch: 2 processes x 2 images = 4 images' in result.stdout
    assert 'Epoch(train) [1][1/1]' in result.stdout
    assert safe_torch_load(osp.join(work_dir,
                                    'epoch_1.pth'))['meta']['iter'] == 1
