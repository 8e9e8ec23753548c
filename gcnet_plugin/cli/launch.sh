# Sourced by tools/dist_train.sh, dist_test.sh, slurm_train.sh and
# slurm_test.sh, which start several processes of tools/train.py or
# tools/test.py:
#
#   gcnet_torchrun NPROC SCRIPT [ARGS...]  torchrun on this node; NNODES,
#       NODE_RANK, MASTER_ADDR (127.0.0.1) and PORT (29500) from the
#       environment
#   gcnet_srun PARTITION JOB_NAME SCRIPT [ARGS...]  srun with GPUS (8)
#       tasks, GPUS_PER_NODE (8) per node, CPUS_PER_TASK (5) cores each
#       and SRUN_ARGS from the environment
#
# Both put the repository on PYTHONPATH, use $PYTHON (python) and go
# through run_reporting_errors, so that a configuration or data error is
# printed once, as the last thing the user sees (gcnet_plugin/cli/
# errors.py): each process that hits one writes its message to
# $GCNET_ERROR_DIR/<rank> and exits with status 2 without printing it;
# the launcher's standard error passes through until the first message is
# written and is held back from then on (the other processes' exits and
# the launcher's failure report); then the lowest rank's message is
# printed and the status is 2. Otherwise the status is the launcher's.
# Standard output is untouched.
#
# CPU threads: torchrun sets OMP_NUM_THREADS=1 for several processes per
# node unless the user set it. gcnet_torchrun sets it first and marks it
# as its own (GCNET_CPU_THREADS=auto), so that without CUDA each process
# takes its share of the cores instead (gcnet_plugin/engine/
# cpu_threads.py); a user's OMP_NUM_THREADS is kept.

export PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH

_gcnet_gate() {
  # Ctrl-C and SIGTERM are for the launcher, which shuts its processes
  # down and closes the pipe; the gate ends then.
  trap '' INT TERM
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    compgen -G "$1/*[0-9]" >/dev/null || printf '%s\n' "$line"
  done
}

run_reporting_errors() {
  { set +x; } 2>/dev/null  # the slurm scripts' trace: the call is enough
  local dir status error
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gcnet-errors.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  {
    GCNET_ERROR_DIR=$dir "$@" 2>&1 1>&3 3>&- | _gcnet_gate "$dir" 1>&2
    status=${PIPESTATUS[0]}
  } 3>&1
  error=$(ls "$dir" | grep -E '^[0-9]+$' | sort -n | head -n 1)
  if [[ -n $error ]]; then
    cat "$dir/$error" >&2
    status=2
  fi
  rm -rf "$dir"
  return "$status"
}

gcnet_torchrun() {
  local nproc=$1
  shift
  if [[ -z ${OMP_NUM_THREADS:-} && $nproc -gt 1 ]]; then
    export OMP_NUM_THREADS=1 GCNET_CPU_THREADS=auto
  fi
  run_reporting_errors ${PYTHON:-python} -m torch.distributed.run \
    --nnodes=${NNODES:-1} \
    --node_rank=${NODE_RANK:-0} \
    --master_addr=${MASTER_ADDR:-127.0.0.1} \
    --nproc_per_node=$nproc \
    --master_port=${PORT:-29500} \
    "$@"
}

gcnet_srun() {
  local partition=$1 job_name=$2
  shift 2
  run_reporting_errors srun -p $partition \
    --job-name=$job_name \
    --gres=gpu:${GPUS_PER_NODE:-8} \
    --ntasks=${GPUS:-8} \
    --ntasks-per-node=${GPUS_PER_NODE:-8} \
    --cpus-per-task=${CPUS_PER_TASK:-5} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    ${PYTHON:-python} -u "$@"
}
