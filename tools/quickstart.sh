#!/usr/bin/env bash
# The embedded quickstart (`make demo`): train and evaluate a GC Mask R-CNN
# on generated data, on a CPU, in minutes.
#
#   1. generate data/quickstart/ (COCO layout) unless it is there;
#   2. train the quickstart config as tools/train.py does, unless its
#      final checkpoint exists (FORCE=1 retrains);
#   3. evaluate it on the val split as tools/test.py does (COCO bbox +
#      segm);
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
START=$(date +%s)

# One python process does the four steps (each would import torch and
# MMDetection again): tools/misc/quickstart.py.
args=(--config "$CONFIG" --work-dir "$WORK_DIR" --start "$START")
[[ $FORCE == 1 ]] && args+=(--force)
"$PY" tools/misc/quickstart.py "${args[@]}"
