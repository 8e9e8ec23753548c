# Sourced by tools/dist_train.sh, dist_test.sh, slurm_train.sh and
# slurm_test.sh: run a launcher of several processes so that a
# configuration or data error is printed once, as the last thing the user
# sees (see gcnet_plugin/cli/errors.py).
#
#   run_reporting_errors LAUNCHER [ARGS...]
#
# Each process that hits such an error writes its message to
# $GCNET_ERROR_DIR/<rank> and exits with status 2 without printing it.
# The launcher's standard error passes through until the first message is
# written and is held back from then on (the other processes' exits and
# the launcher's failure report); then the lowest rank's message is
# printed and the function returns 2. Otherwise it returns the launcher's
# status. Standard output is untouched.

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
