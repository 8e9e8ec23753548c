#!/usr/bin/env bash
# Training on a Slurm cluster, as MMDetection's tools/slurm_train.sh:
#   [GPUS=16] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [opts]
# GPUS tasks (processes) in all, GPUS_PER_NODE per node, CPUS_PER_TASK
# cores each; SRUN_ARGS are added to srun's arguments. A configuration or
# data error is printed once, last, with exit status 2
# (gcnet_plugin/cli/report_errors.sh).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
ROOT="$(dirname "$0")/.."
source "$ROOT/gcnet_plugin/cli/report_errors.sh"
export PYTHONPATH="$ROOT":$PYTHONPATH

run_reporting_errors \
  srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    $PYTHON -u "$(dirname "$0")/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher="slurm" "${@:5}"
