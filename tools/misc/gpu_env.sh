#!/usr/bin/env bash
# The stack on a GPU machine that has python3 with a CUDA torch but no
# package index (a lent benchmark machine, an air-gapped node): wheels
# fetched beforehand where pip works are installed into a folder, mmcv is
# built there from its source archive with the CUDA ops of the local GPU,
# and a file to source puts that folder and this repository on PYTHONPATH.
#
#   tools/misc/gpu_env.sh WHEEL_DIR [TARGET]   (TARGET: /tmp/gcnet-site)
#   . TARGET/env.sh && tools/misc/gpu_checks.sh
#
# WHEEL_DIR holds mmcv-2.1.0.tar.gz and the wheels of mmengine, mmdet,
# mmpretrain, mmaction2, setuptools<80 (mmcv's setup.py imports
# pkg_resources) and whatever of their imports the machine lacks, for its
# python; docs/benchmarks.md ("Running it on a machine without a package
# index") lists the ones that were needed and the `pip download` that
# fetched them.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHEELS=$(realpath "${1:?usage: tools/misc/gpu_env.sh WHEEL_DIR [TARGET]}")
TARGET=${2:-/tmp/gcnet-site}
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install -q --disable-pip-version-check --no-index
     --no-deps --no-compile --no-cache-dir --upgrade --target "$TARGET")
t0=$SECONDS

echo "==> [gpu_env] wheels of $WHEELS into $TARGET"
"${PIP[@]}" "$WHEELS"/*.whl
export PYTHONPATH="$TARGET:$PWD${PYTHONPATH:+:$PYTHONPATH}"

ARCH=$("$PY" -c 'import torch
print("%d.%d" % torch.cuda.get_device_capability())')
echo "==> [gpu_env] mmcv with CUDA ops for sm_${ARCH/./}" \
  "(log: $TARGET/mmcv_build.log)"
# torch compiles in parallel (MAX_JOBS) only when it finds ninja
PATH="$(dirname "$(command -v "$PY")"):$PATH"
command -v ninja >/dev/null || PATH="$("$PY" -c 'import ninja
print(ninja.BIN_DIR)'):$PATH"
ninja --version >/dev/null || { echo "!!  [gpu_env] no ninja" >&2; exit 1; }
src=$(mktemp -d)
tar xzf "$WHEELS"/mmcv-*.tar.gz -C "$src"
MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$ARCH} \
  MAX_JOBS=${MAX_JOBS:-$(nproc)} \
  "${PIP[@]}" -vv --no-build-isolation "$src"/mmcv-*/ \
  > "$TARGET/mmcv_build.log" 2>&1 || {
    tail -40 "$TARGET/mmcv_build.log"
    echo "!!  [gpu_env] mmcv did not build" >&2
    exit 1
  }
rm -rf "$src"

cat > "$TARGET/env.sh" <<EOF
export PYTHONPATH="$PYTHONPATH"
export PYTHON="$PY"
EOF
"$PY" -c 'import torch, mmcv, mmdet, mmengine
from mmcv.ops import nms
import gcnet_plugin
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]).cuda()
assert nms(boxes, torch.tensor([0.9, 0.8]).cuda(), 0.5)[1].tolist() == [0]
print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, "
      f"mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, "
      f"mmengine {mmengine.__version__}")'
echo "==> [gpu_env] ready in $((SECONDS - t0)) s: . $TARGET/env.sh"
