#!/usr/bin/env bash
# A rank dies (kill: SIGKILL) or hangs (stall) before an all_reduce; the job must end
# with a clear error within the 2 s collective timeout plus start-up and shutdown
# (< 30 s), never hang. By default mpirun itself ends the job as soon as a rank dies of
# a signal (its message names the rank); with orte_abort_on_non_zero_status=0 it does
# not, and the survivor's own timeout must fire, naming the op and the rank.
# Usage: fault.sh <mpirun> <tapegrad_dist_tests> kill|stall
set -uo pipefail
mpirun=$1
bin=$2
mode=$3
ours='error: all_reduce \(rank 0 of 2, mpi\): timed out after 2\.0 s waiting for the other ranks'

# run <expected output regex> [env assignments...]
run() {
  local expect=$1
  shift
  local start out rc ms
  start=$(date +%s%N)
  out=$(env "$@" timeout 60 "$mpirun" -np 2 --oversubscribe "$bin" --fault="$mode" --timeout-ms=2000 2>&1)
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$out" | grep -vE '^\s*$' | head -12
  echo "exit status $rc after $ms ms"
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { echo "FAIL: the job did not fail, or hung"; exit 1; }
  [ "$ms" -lt 30000 ] || { echo "FAIL: took $ms ms"; exit 1; }
  echo "$out" | grep -qE "$expect" || { echo "FAIL: no clear error matching: $expect"; exit 1; }
}

case $mode in
  stall) run "$ours" ;;
  kill)
    run '(mpirun|mpiexec) noticed that process rank 1 .* exited on signal 9'
    run "$ours" OMPI_MCA_orte_abort_on_non_zero_status=0
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
echo "ok: $mode"
