#!/usr/bin/env bash
# Training on a Slurm cluster, as MMDetection's tools/slurm_train.sh:
#   [GPUS=16] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [opts]
# GPUS tasks (processes) in all (default 8), GPUS_PER_NODE (8) per node,
# CPUS_PER_TASK (5) cores each; SRUN_ARGS are added to srun's options;
# PYTHON picks the interpreter. A configuration or data error is printed
# once, last, with exit status 2 (gcnet_plugin/cli/launch.sh).
set -x
source "$(dirname "$0")/../gcnet_plugin/cli/launch.sh"
gcnet_srun "$1" "$2" "$(dirname "$0")/train.py" "$3" --work-dir="$4" \
  --launcher=slurm "${@:5}"
