#!/usr/bin/env bash
# Distributed testing, as MMDetection's tools/dist_test.sh:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Several machines: run it on each with NNODES, NODE_RANK (0..NNODES-1),
# MASTER_ADDR (node 0's address) and PORT. Without CUDA, GPUS CPU
# processes test over gloo. PYTHON picks the interpreter (default:
# python). A configuration or data error is printed once, last, with exit
# status 2 (gcnet_plugin/cli/launch.sh).
source "$(dirname "$0")/../gcnet_plugin/cli/launch.sh"
gcnet_torchrun "$3" "$(dirname "$0")/test.py" "$1" "$2" --launcher pytorch \
  "${@:4}"
