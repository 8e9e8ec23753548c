#!/usr/bin/env bash
# Distributed training, as MMDetection's tools/dist_train.sh:
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Several machines: run it on each with NNODES, NODE_RANK (0..NNODES-1),
# MASTER_ADDR (node 0's address) and PORT. Without CUDA, GPUS CPU
# processes train over gloo. PYTHON picks the interpreter (default:
# python). A configuration or data error is printed once, last, with exit
# status 2 (gcnet_plugin/cli/report_errors.sh).
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT="$(dirname "$0")/.."
source "$ROOT/gcnet_plugin/cli/report_errors.sh"
export PYTHONPATH="$ROOT":$PYTHONPATH

run_reporting_errors \
  $PYTHON -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
