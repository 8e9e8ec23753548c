#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (a few minutes after setup):
#   1. mmcv's CUDA ops (NMS, RoIAlign, DeformConv2d) against their CPU
#      results;
#   2. the block benchmark on the GPU, fp32 and AMP (fp16), full-size maps
#      (with kernel time: "dev ms") and 1x1 maps (per-call host cost); the
#      GC blocks' added time inside a ResNet-50 step, fp32 and AMP;
#   3. the quickstart model trained briefly with SyncBN and AMP through
#      tools/dist_train.sh on 1 GPU, then evaluated with tools/test.py.
#
#   tools/misc/gpu_checks.sh [OUT_DIR]        (default work_dirs/gpu_checks)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-work_dirs/gpu_checks}
PY=${PYTHON:-.venv/bin/python}
CONFIG=configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py
EPOCHS=${EPOCHS:-2}
mkdir -p "$OUT_DIR"
status=0
run() {  # run NAME CMD...: time it, keep its log, go on after a failure
  local name=$1; shift
  echo "==> [gpu_checks] $name"
  local t0=$SECONDS
  if "$@" 2>&1 | tee "$OUT_DIR/$name.log"; then
    echo "==> [gpu_checks] $name: ok ($((SECONDS - t0)) s)"
  else
    echo "!!  [gpu_checks] $name: FAILED ($((SECONDS - t0)) s)"
    status=1
  fi
}

nvidia-smi -L || true
run cuda_ops "$PY" tools/misc/check_cuda_ops.py
run bench_fp32 "$PY" tools/analysis_tools/benchmark_blocks.py \
  --device cuda --json "$OUT_DIR/bench_fp32.json"
run bench_amp "$PY" tools/analysis_tools/benchmark_blocks.py \
  --device cuda --amp --json "$OUT_DIR/bench_amp.json"
run bench_host "$PY" tools/analysis_tools/benchmark_blocks.py \
  --device cuda --map-size 1 1 --nl-levels --json "$OUT_DIR/bench_host.json"
run backbone_fp32 "$PY" tools/analysis_tools/benchmark_backbone.py \
  --device cuda --json "$OUT_DIR/backbone_fp32.json"
run backbone_amp "$PY" tools/analysis_tools/benchmark_backbone.py \
  --device cuda --amp --json "$OUT_DIR/backbone_amp.json"
[ -f data/quickstart/annotations/instances_val2017.json ] \
  || run data "$PY" tools/misc/make_quickstart_data.py
run train_syncbn_amp env PYTHON="$PY" bash tools/dist_train.sh "$CONFIG" 1 \
  --amp --work-dir "$OUT_DIR/train" \
  --cfg-options model.backbone.norm_cfg.type=SyncBN \
  train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval="$EPOCHS" \
  default_hooks.checkpoint.interval="$EPOCHS"
ckpt=$(ls "$OUT_DIR"/train/epoch_*.pth 2>/dev/null | sort -V | tail -1)
if [ -n "$ckpt" ]; then
  run test "$PY" tools/test.py "$CONFIG" "$ckpt" \
    --work-dir "$OUT_DIR/test"
else
  echo "!!  [gpu_checks] no checkpoint to test"; status=1
fi
exit $status
