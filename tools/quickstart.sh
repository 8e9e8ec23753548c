#!/usr/bin/env bash
# The embedded quickstart (`make demo`): train and evaluate a GC Mask R-CNN
# on generated data, on a CPU, in minutes.
#
#   1. generate data/quickstart/ (COCO layout) unless it is there;
#   2. train the quickstart config with tools/train.py, unless its final
#      checkpoint exists (FORCE=1 retrains);
#   3. evaluate it on the val split with tools/test.py (COCO bbox + segm);
#   4. write the loss curve and a few val images with predictions as PNGs
#      and print the AP table and where everything is.
#
# Environment:
#   PY        python of the project's venv (default: .venv/bin/python)
#   CONFIG    config (default: the quickstart GC R50 Mask R-CNN)
#   WORK_DIR  outputs (default: work_dirs/quickstart)
#   FORCE     1: retrain even if the final checkpoint exists (default: 0)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
CONFIG=${CONFIG:-configs/quickstart/mask-rcnn_r50-w16-gcb-r16-c3-c5_fpn_quickstart.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}
FORCE=${FORCE:-0}
DATA_ROOT=data/quickstart
START=$(date +%s)

say() { echo "==> [demo $(($(date +%s) - START))s] $*"; }

# 1. Data. The val annotation file is written last: its presence means the
# generator finished.
if [[ -f $DATA_ROOT/annotations/instances_val2017.json ]]; then
  say "data: reusing $DATA_ROOT/"
else
  say "data: generating $DATA_ROOT/"
  "$PY" tools/misc/make_quickstart_data.py --root "$DATA_ROOT/"
fi

# 2. Training. mmengine's `last_checkpoint` names the newest checkpoint;
# the config saves one only at the last epoch.
MAX_EPOCHS=$("$PY" -c "from mmengine.config import Config; \
print(Config.fromfile('$CONFIG').train_cfg.max_epochs)" | tail -n 1)
[[ $MAX_EPOCHS =~ ^[0-9]+$ ]] || { echo "cannot read max_epochs of $CONFIG" >&2; exit 1; }
CKPT=$WORK_DIR/epoch_$MAX_EPOCHS.pth
if [[ $FORCE != 1 && -f $CKPT ]]; then
  say "train: reusing $CKPT (FORCE=1 retrains)"
else
  say "train: $CONFIG for $MAX_EPOCHS epochs -> $WORK_DIR/"
  rm -f "$CKPT" "$WORK_DIR/last_checkpoint"
  "$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
fi

# 3. Evaluation on the val split.
say "test: $CKPT on the val split"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" \
  --out "$WORK_DIR/results.pkl"

# 4. Pictures and the summary.
say "plots"
"$PY" tools/analysis_tools/plot_loss_curve.py "$WORK_DIR" \
  --out "$WORK_DIR/loss_curve.png"
"$PY" tools/analysis_tools/plot_predictions.py "$CONFIG" \
  "$WORK_DIR/results.pkl" --out "$WORK_DIR/predictions.png"

TRAIN_LOG=$(ls -t "$WORK_DIR"/*/*.log 2>/dev/null | head -n 1)
echo
echo "COCO AP on the $DATA_ROOT val split:"
"$PY" tools/analysis_tools/coco_ap_table.py "$WORK_DIR/test"
cat <<EOF

Outputs ($(($(date +%s) - START)) s in all):
  checkpoint        $CKPT
  training log      ${TRAIN_LOG:-$WORK_DIR/<timestamp>/<timestamp>.log}
  loss curve        $WORK_DIR/loss_curve.png
  predictions       $WORK_DIR/predictions.png (left: ground truth)
  val predictions   $WORK_DIR/results.pkl
  test log/metrics  $WORK_DIR/test/<timestamp>/
EOF
