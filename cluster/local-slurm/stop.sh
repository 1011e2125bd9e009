#!/usr/bin/env bash
# Stops the local SLURM that start.sh started in STATE_DIR: cancels its jobs,
# then stops the slurmd (every node's, with --hosts), slurmctld and munged by
# the PIDs start.sh recorded in STATE_DIR/pids (never by name, so another
# SLURM or munged on the machine is left alone), waiting until each is gone.
# The folder and its logs stay. A SLURM on local hosts is stopped before
# the hosts (cluster/local-hosts/stop.sh); stopped after them, its daemons
# are already gone and only the PID list is cleared.
#
#   cluster/local-slurm/stop.sh STATE_DIR
#
# Exit codes: 0 stopped (or nothing was running); 1 a daemon would not stop;
# 2 bad usage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/usage.sh"

(($# == 1)) || usage
state=$1
pids_file=$state/pids
if [[ ! -s $pids_file ]]; then
  echo "stop.sh: nothing to stop (no $pids_file)"
  exit 0
fi

# The PIDs as start.sh recorded them: the daemons' own PID files go away as
# they exit. Names: munged, slurmctld, slurmd (one node) or slurmd@hN.
declare -A pid_of=()
names=()
while read -r name pid; do
  if [[ $name =~ ^(munged|slurmctld|slurmd|slurmd@h[1-9])$ && $pid =~ ^[0-9]+$ ]]; then
    pid_of[$name]=$pid
    names+=("$name")
  fi
done <"$pids_file"

# A PID names our daemon only while that process still runs the program
# (a PID can be reused once it has exited).
is_running() {
  local name=$1 pid=${pid_of[$1]:-}
  [[ -n $pid && -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "${name%@*}"* ]]
}

# Jobs first, while slurmctld can still end them; their processes are
# children of slurmd's job step daemons, which would otherwise live on.
# on.sh runs squeue and scancel where the controller is reachable (h1 of
# local hosts); when it cannot (the hosts are gone), there are no jobs.
slurm() { "$(dirname "${BASH_SOURCE[0]}")/on.sh" "$state" "$@" 2>/dev/null; }
if is_running slurmctld && [[ -f $state/slurm.conf ]]; then
  mapfile -t jobs < <(slurm squeue --noheader --format=%A || true)
  if ((${#jobs[@]})); then
    slurm scancel "${jobs[@]}" || true
    for _ in $(seq 150); do
      [[ -z $(slurm squeue --noheader --format=%A) ]] && break
      sleep 0.2
    done
  fi
fi

status=0
ordered=()
for kind in slurmd slurmctld munged; do
  for name in "${names[@]}"; do [[ ${name%@*} != "$kind" ]] || ordered+=("$name"); done
done
for name in "${ordered[@]}"; do
  is_running "$name" || continue
  pid=${pid_of[$name]}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "stop.sh: $name (PID $pid) still running 30 s after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: $name (PID $pid) would not stop" >&2
      status=1
      continue
    fi
  fi
  echo "stopped $name (PID $pid)"
done
((status)) || rm -f "$pids_file"
exit "$status"
