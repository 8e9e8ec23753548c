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
#   TORCHVISION_VERSION  its torchvision (default: the one built with it)
#   GCNET_WHEEL_CACHE    where built mmcv wheels are kept, one per torch
#                   (default: ~/.cache/gcnet-plugin/wheels)
#   MMCV_WITH_OPS   build mmcv's compiled ops (default: 1)
#   TORCH_CUDA_ARCH_LIST  CUDA archs for mmcv (default: the local GPU's)
#   MAX_JOBS        parallel compile jobs (default: number of cores)
#   SETUP_CHECK     imports: an up-to-date environment is checked by
#                   importing the stack (default); stamp: its stamp is
#                   trusted (make demo: the quickstart imports the stack
#                   and checks it itself)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# The default pair is one whose torchvision loads beside its torch from the
# package index: x86_64 has no such CPU build of torch >= 2.10 there.
case "$(uname -m)" in
  aarch64|arm64) TORCH_VERSION=${TORCH_VERSION:-2.9.1} ;;
  *) TORCH_VERSION=${TORCH_VERSION:-2.14.1} ;;
esac
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
  cat requirements.txt requirements-no-deps.txt setup.py tools/setup_env.sh
  echo "$TORCH_VERSION ${MMCV_WITH_OPS:-1} ${TORCH_CUDA_ARCH_LIST:-}"
}
STAMP="$VENV/.gcnet-setup-$(stamp_inputs | sha1sum | cut -c1-12)"
PY="$VENV/bin/python"

check_imports() {
  # One process (each import of the stack costs seconds): the versions, and
  # one compiled mmcv op run (an extension built for another torch fails).
  "$PY" -m gcnet_plugin.cli.stack_check
}

# The version comes from requirements.txt's exact pin, its one source.
MMCV_REQ=$(grep -E '^mmcv' requirements.txt)
MMCV_VERSION=${MMCV_REQ#mmcv==}
if [ "$MMCV_VERSION" = "$MMCV_REQ" ]; then
  echo "requirements.txt must pin mmcv exactly (mmcv==X.Y.Z), not" \
    "'$MMCV_REQ'" >&2
  false
fi
mmcv_ops_run() {
  # Runs one compiled op: an extension built for another torch fails here.
  "$PY" -c 'import sys, torch, mmcv
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
sys.exit(mmcv.__version__ != sys.argv[1] or keep.tolist() != [0])' \
    "$MMCV_VERSION" >/dev/null 2>&1
}
if [ -f "$STAMP" ] && [ "${SETUP_CHECK:-imports}" = stamp ] && [ -x "$PY" ]; then
  echo "==> [setup] environment $VENV is up to date (its stamp; the stack" \
    "is checked where it is imported)"
  exit 0
fi
if [ -f "$STAMP" ] && versions=$(check_imports 2>/dev/null); then
  echo "==> [setup] environment $VENV is up to date: $versions"
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

step "torch and torchvision"
# torchvision (mmpretrain imports it) must come from the same build as
# torch: torch 2.X pairs with torchvision 0.(X+15).
torchvision_for() { echo "0.$(( ${1#2.} + 15 ))"; }
torch_minor() { "$PY" -c 'import torch
print(".".join(torch.__version__.split("+")[0].split(".")[:2]))'; }
if "$PY" -c 'import torch' >/dev/null 2>&1; then
  echo "    keeping torch $("$PY" -c 'import torch; print(torch.__version__)')"
  if ! "$PY" -c 'import torchvision.ops' >/dev/null 2>&1; then
    tv=$(torchvision_for "$(torch_minor)")
    echo "    installing torchvision==$tv.* to match it"
    "${PIP[@]}" -q --no-deps "torchvision==$tv.*"
  fi
else
  TV_VERSION=${TORCHVISION_VERSION:-$(torchvision_for "${TORCH_VERSION%.*}").${TORCH_VERSION##*.}}
  pair=("torch==$TORCH_VERSION" "torchvision==$TV_VERSION")
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
  then
    echo "    GPU found: installing ${pair[*]} (CUDA build)"
    "${PIP[@]}" "${pair[@]}"
  else
    # No GPU: PyTorch's CPU index first (a CPU build, some GB smaller);
    # where it cannot be reached, the configured indexes' default build.
    echo "    no GPU: installing ${pair[*]}"
    "${PIP[@]}" -q --retries 0 --timeout 10 \
        --index-url https://download.pytorch.org/whl/cpu "${pair[@]}" \
        2>/dev/null || "${PIP[@]}" "${pair[@]}"
  fi
fi
"$PY" -c 'import torch, torchvision.ops' || {
  echo "torchvision does not load beside this torch; install the" \
    "torchvision built for it, or use a fresh venv (rm -rf $VENV)" >&2
  false; }

step "build tools (setuptools<80, ninja, wheel)"
"${PIP[@]}" -q "setuptools<80" ninja wheel

step "mmengine"
"${PIP[@]}" -q "$(grep -E '^mmengine' requirements.txt)"

step "mmcv (built from source with ops; about 10 minutes on 2 cores)"
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
fi
# The wheel is built once per (mmcv, torch build, python, ops) and kept in
# our own cache, never in pip's: pip keys its cache by mmcv's source alone
# and would hand an extension built for another torch to this one.
TORCH_TAG=$("$PY" -c 'import sys, torch
print(f"torch{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}")')
OPS_TAG="ops${MMCV_WITH_OPS}${FORCE_CUDA:+-cuda${TORCH_CUDA_ARCH_LIST// /_}}"
MMCV_CACHE=${GCNET_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gcnet-plugin/wheels}
MMCV_CACHE="$MMCV_CACHE/mmcv-$MMCV_VERSION-$TORCH_TAG-$OPS_TAG"
if mmcv_ops_run; then
  echo "    mmcv $MMCV_VERSION with ops already installed for this torch"
else
  if ! ls "$MMCV_CACHE"/mmcv-*.whl >/dev/null 2>&1; then
    echo "    building for $TORCH_TAG ($OPS_TAG) into $MMCV_CACHE"
    src=$(mktemp -d)
    "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
        --no-build-isolation -d "$src" "$MMCV_REQ"
    tar xzf "$src"/mmcv-*.tar.gz -C "$src"
    if "$PY" -c 'import torch, sys
v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
sys.exit(v < (2, 14))'; then
      # torch >= 2.14's headers require C++20; mmcv 2.1.0 asks for C++17.
      echo "    torch >= 2.14: compiling with -std=c++20 instead of c++17"
      sed -i "s/'-std=c++17'/'-std=c++20'/g" "$src"/mmcv-*/setup.py
    fi
    # Build isolation off: the extension must link against the torch
    # above. The compile steps ([k/N]) are echoed so the build does not
    # look hung; the whole output is in $LOG_DIR/mmcv_build.log.
    set +e
    "$PY" -m pip wheel -v --no-deps --no-build-isolation \
        -w "$src/dist" "$src"/mmcv-*/ 2>&1 \
      | tee "$LOG_DIR/mmcv_build.log" \
      | { grep --line-buffered -oE \
            '^ *\[[0-9]+/[0-9]+\] [^ ]+|^Successfully.*|^ERROR.*' \
          | sed -u 's/^ */    /'; true; }
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -eq 0 ] || { echo "pip could not build $MMCV_REQ (rc=$rc)" >&2; false; }
    mkdir -p "$MMCV_CACHE"
    mv "$src"/dist/mmcv-*.whl "$MMCV_CACHE"/
    rm -rf "$src"
  else
    echo "    using the wheel built for $TORCH_TAG ($OPS_TAG) in $MMCV_CACHE"
  fi
  "${PIP[@]}" -q --no-deps --force-reinstall "$MMCV_CACHE"/mmcv-*.whl
  mmcv_ops_run || { echo "mmcv's ops do not run with this torch" >&2; false; }
fi

step "mmdet, mmpretrain, mmaction2 and the rest of requirements.txt"
"${PIP[@]}" -q -r requirements.txt
# Packages whose declared dependencies must not be installed (listed, with
# why, in the file).
"${PIP[@]}" -q --no-deps -r requirements-no-deps.txt

step "gcnet_plugin (editable)"
"${PIP[@]}" -q --no-deps --no-build-isolation -e .

step "check"
check_imports
rm -f "$VENV"/.gcnet-setup-*
touch "$STAMP"
echo "==> [setup] done"
