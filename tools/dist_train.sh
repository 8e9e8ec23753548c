#!/usr/bin/env bash
# Distributed training, as MMDetection's tools/dist_train.sh:
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Several machines: run it on each with NNODES, NODE_RANK (0..NNODES-1),
# MASTER_ADDR (node 0's address) and PORT. Without CUDA, GPUS CPU
# processes train over gloo. PYTHON picks the interpreter (default:
# python). A configuration or data error is printed once, last, with exit
# status 2 (gcnet_plugin/cli/launch.sh).
source "$(dirname "$0")/../gcnet_plugin/cli/launch.sh"
gcnet_torchrun "$2" "$(dirname "$0")/train.py" "$1" --launcher pytorch \
  "${@:3}"
