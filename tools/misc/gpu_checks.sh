#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (about 5 minutes on an H200
# after setup), most important first:
#   1. mmcv's CUDA ops (NMS, RoIAlign, DeformConv2d) against their CPU
#      results;
#   2. the whole Mask R-CNN training step at 1333x800, 2 images: baseline,
#      GC r16 (ours and mmcv's block), GC r4, +1 NL; fp32, then AMP;
#   3. the lone blocks at c3/c4/c5 against mmcv's GC block (wall and
#      kernel time), fp32, then AMP;
#   4. the quickstart model trained briefly with SyncBN and AMP through
#      tools/dist_train.sh on 1 GPU (NCCL), then evaluated with
#      tools/test.py.
# Each check goes on after another one failed; the exit status says
# whether any did.
#
#   tools/misc/gpu_checks.sh [OUT_DIR]   (default work_dirs/gpu_checks)
#
# OUT_DIR gets the JSON of each benchmark; LOG_DIR (default OUT_DIR) the
# log of each check and the training's work dir. PYTHON picks the
# interpreter (default .venv/bin/python; tools/misc/gpu_env.sh sets it on
# a machine without a package index).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-work_dirs/gpu_checks}
LOG_DIR=${LOG_DIR:-$OUT_DIR}
PY=${PYTHON:-.venv/bin/python}
CONFIG=configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py
EPOCHS=${EPOCHS:-2}
mkdir -p "$OUT_DIR" "$LOG_DIR"
status=0
declare -A amp
run() {  # run NAME CMD...: time it, keep its log, go on after a failure
  local name=$1; shift
  echo "==> [gpu_checks] $name"
  local t0=$SECONDS
  if "$@" 2>&1 | tee "$LOG_DIR/$name.log"; then
    echo "==> [gpu_checks] $name: ok ($((SECONDS - t0)) s)"
  else
    echo "!!  [gpu_checks] $name: FAILED ($((SECONDS - t0)) s)"
    status=1
  fi
}

nvidia-smi -L || true
"$PY" -c 'import torch, mmcv, mmdet, mmengine
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN "
      f"{torch.backends.cudnn.version()}), mmcv {mmcv.__version__}, "
      f"mmdet {mmdet.__version__}, mmengine {mmengine.__version__}")'
run cuda_ops "$PY" tools/misc/check_cuda_ops.py
amp=([fp32]="" [amp]=--amp)
for prec in fp32 amp; do
  run "step_$prec" "$PY" tools/analysis_tools/benchmark_detector_step.py \
    --device cuda ${amp[$prec]} --json "$OUT_DIR/step_$prec.json"
done
for prec in fp32 amp; do
  run "blocks_$prec" "$PY" tools/analysis_tools/benchmark_blocks.py \
    --device cuda ${amp[$prec]} --json "$OUT_DIR/blocks_$prec.json"
done
[ -f data/quickstart/annotations/instances_val2017.json ] \
  || run data "$PY" tools/misc/make_quickstart_data.py
run train_syncbn_amp env PYTHON="$PY" bash tools/dist_train.sh "$CONFIG" 1 \
  --amp --work-dir "$LOG_DIR/train" \
  --cfg-options model.backbone.norm_cfg.type=SyncBN \
  train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval="$EPOCHS" \
  default_hooks.checkpoint.interval="$EPOCHS"
ckpt=$(ls "$LOG_DIR"/train/epoch_*.pth 2>/dev/null | sort -V | tail -1)
if [ -n "$ckpt" ]; then
  run test "$PY" tools/test.py "$CONFIG" "$ckpt" --work-dir "$LOG_DIR/test"
else
  echo "!!  [gpu_checks] no checkpoint to test"; status=1
fi
exit $status
