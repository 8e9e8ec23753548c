#!/usr/bin/env bash
# Create or reuse the project's virtual environment and install the stack:
# torch -> build tools -> mmengine -> mmcv (built from source, with ops) ->
# mmdet and the rest of requirements.txt -> gcnet_plugin (editable).
#
# Idempotent: when nothing it depends on changed, a second run only checks
# the imports and returns in seconds.
#
# Environment:
#   VENV            virtual environment folder (default: .venv)
#   PYTHON          interpreter that creates it (default: python3)
#   TORCH_VERSION   torch to install when none is present (default: below)
#   MMCV_WITH_OPS   build mmcv's compiled ops (default: 1)
#   TORCH_CUDA_ARCH_LIST  CUDA archs for mmcv (default: the local GPU's)
#   MAX_JOBS        parallel compile jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
LOG_DIR=${LOG_DIR:-work_dirs/setup}
mkdir -p "$LOG_DIR"

STEP="start"
step() { STEP="$1"; echo "==> [setup] $1"; }
fail() {
  echo "!!  [setup] failed at step: $STEP" >&2
  echo "!!  [setup] see the log above and $LOG_DIR/ for details" >&2
}
trap fail ERR

stamp_inputs() {
  cat requirements.txt setup.py tools/setup_env.sh
  echo "$TORCH_VERSION ${MMCV_WITH_OPS:-1} ${TORCH_CUDA_ARCH_LIST:-}"
}
STAMP="$VENV/.gcnet-setup-$(stamp_inputs | sha1sum | cut -c1-12)"
PY="$VENV/bin/python"

check_imports() {
  "$PY" - <<'EOF'
import mmcv, mmdet, mmengine, torch
from mmcv.ops import nms  # the compiled ops are there
import gcnet_plugin
print(f'torch {torch.__version__} (cuda: {torch.cuda.is_available()}), '
      f'mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, '
      f'mmengine {mmengine.__version__}, gcnet_plugin '
      f'{gcnet_plugin.__version__}')
EOF
}

if [ -f "$STAMP" ] && check_imports >/dev/null 2>&1; then
  echo "==> [setup] environment $VENV is up to date: $(check_imports)"
  exit 0
fi

step "virtual environment ($VENV)"
if [ ! -x "$PY" ]; then
  "$PYTHON" -m venv "$VENV"
  # Reuse a torch that the base interpreter already has (a GPU server's
  # CUDA build, say; also when that interpreter is itself a venv or conda
  # env) instead of downloading another one: its site folder is appended
  # to the venv's path, after the venv's own packages.
  base_site=$("$PYTHON" -c 'import os, torch
print(os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null || true)
  if [ -n "$base_site" ]; then
    echo "    reusing the torch found by $PYTHON in $base_site"
    venv_site=$("$PY" -c 'import sysconfig
print(sysconfig.get_paths()["purelib"])')
    echo "$base_site" > "$venv_site/_gcnet_base_site.pth"
  fi
fi
PIP=("$PY" -m pip install --disable-pip-version-check)

step "torch"
if "$PY" -c 'import torch' >/dev/null 2>&1; then
  echo "    keeping torch $("$PY" -c 'import torch; print(torch.__version__)')"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
then
  echo "    GPU found: installing torch==$TORCH_VERSION (CUDA build)"
  "${PIP[@]}" "torch==$TORCH_VERSION"
else
  # No GPU: prefer the CPU build (about 200 MB instead of several GB of
  # CUDA libraries). It is found in local wheel caches or on PyTorch's CPU
  # index; the default build is the last resort.
  echo "    no GPU: installing the CPU build of torch==$TORCH_VERSION"
  "${PIP[@]}" "torch==$TORCH_VERSION+cpu" 2>/dev/null \
    || "${PIP[@]}" --index-url https://download.pytorch.org/whl/cpu \
         "torch==$TORCH_VERSION" \
    || "${PIP[@]}" "torch==$TORCH_VERSION"
fi

step "build tools (setuptools<80, ninja, wheel)"
"${PIP[@]}" -q "setuptools<80" ninja wheel

step "mmengine"
"${PIP[@]}" -q "$(grep -E '^mmengine' requirements.txt)"

step "mmcv (built from source with ops; about 10 minutes on 2 cores)"
# The version comes from requirements.txt's exact pin, its one source.
MMCV_REQ=$(grep -E '^mmcv' requirements.txt)
MMCV_VERSION=${MMCV_REQ#mmcv==}
if [ "$MMCV_VERSION" = "$MMCV_REQ" ]; then
  echo "requirements.txt must pin mmcv exactly (mmcv==X.Y.Z), not" \
    "'$MMCV_REQ'" >&2
  false
fi
if "$PY" -c 'import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != sys.argv[1])' \
    "$MMCV_VERSION" >/dev/null 2>&1; then
  echo "    mmcv $MMCV_VERSION with ops already installed"
else
  export MMCV_WITH_OPS=${MMCV_WITH_OPS:-1}
  export MAX_JOBS=${MAX_JOBS:-$(nproc)}
  if command -v nvcc >/dev/null 2>&1 && \
      "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'
  then
    export FORCE_CUDA=1
    if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
      TORCH_CUDA_ARCH_LIST=$("$PY" -c 'import torch
print("%d.%d" % torch.cuda.get_device_capability())')
      export TORCH_CUDA_ARCH_LIST
    fi
    echo "    building CUDA ops for TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST"
  else
    echo "    no nvcc or no GPU: building CPU ops only"
  fi
  # Build isolation off: the extension must link against the torch above.
  # The compile steps ([k/N]) are echoed so the build does not look hung;
  # the whole output is in $LOG_DIR/mmcv_build.log. pip caches the wheel,
  # so a later install (a new venv) takes seconds.
  set +e
  "${PIP[@]}" -v --no-build-isolation "$MMCV_REQ" 2>&1 \
    | tee "$LOG_DIR/mmcv_build.log" \
    | { grep --line-buffered -oE \
          '^ *\[[0-9]+/[0-9]+\] [^ ]+|^Successfully.*|^ERROR.*' \
        | sed -u 's/^ */    /'; true; }
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || { echo "pip could not build $MMCV_REQ (rc=$rc)" >&2; false; }
  "$PY" -c 'import mmcv.ops' || { echo "mmcv ops do not import" >&2; false; }
fi

step "mmdet and the rest of requirements.txt"
"${PIP[@]}" -q -r requirements.txt

step "gcnet_plugin (editable)"
"${PIP[@]}" -q --no-deps --no-build-isolation -e .

step "check"
check_imports
rm -f "$VENV"/.gcnet-setup-*
touch "$STAMP"
echo "==> [setup] done"
