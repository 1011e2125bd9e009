#!/usr/bin/env bash
# Starts a single-node SLURM from Debian's packages (munge, slurmctld,
# slurmd) for Loom's cluster tests, with every file it writes (config, key,
# sockets, state, spool, logs, PID files) inside STATE_DIR and ports of its
# own, so it runs beside a machine's own munged or SLURM without touching
# them. No systemd: munged runs as the munge user (runuser), slurmctld and
# slurmd as root. Returns when the node is idle and takes jobs.
#
#   cluster/local-slurm/start.sh STATE_DIR [--cpus N] [--ports CTLD,SLURMD]
#   export SLURM_CONF=STATE_DIR/slurm.conf    # for sbatch, squeue, scontrol ...
#   cluster/local-slurm/stop.sh STATE_DIR
#
# --cpus: CPUs the node declares (default: what `slurmd -C` finds; more than
# the machine has is allowed). --ports: slurmctld's and slurmd's ports
# (default 16817,16818, not SLURM's usual 6817,6818).
# Needs root and the packages slurmctld slurmd slurm-client munge. Writes the
# PIDs it started to STATE_DIR/pids, which stop.sh reads. Exit codes: 0 up;
# 1 failed to come up (what it had started is stopped again; logs stay in
# STATE_DIR/log); 2 bad usage or a missing program.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

fail_usage() {
  echo "start.sh: $*" >&2
  exit 2
}

(($# >= 1)) || usage
state_arg=$1
shift
cpus=
ports=16817,16818
while (($#)); do
  case $1 in
    --cpus) (($# >= 2)) || usage; cpus=$2; shift 2 ;;
    --ports) (($# >= 2)) || usage; ports=$2; shift 2 ;;
    *) fail_usage "unknown argument '$1'" ;;
  esac
done
[[ -z $cpus || $cpus =~ ^[1-9][0-9]*$ ]] || fail_usage "--cpus must be a positive integer, got '$cpus'"
[[ $ports =~ ^([1-9][0-9]*),([1-9][0-9]*)$ ]] || fail_usage "--ports must be CTLD_PORT,SLURMD_PORT, got '$ports'"
ctld_port=${BASH_REMATCH[1]}
slurmd_port=${BASH_REMATCH[2]}

((EUID == 0)) || fail_usage "must run as root (slurmd starts jobs as their users)"
for program in munged mungekey munge unmunge slurmctld slurmd sinfo runuser; do
  command -v "$program" >/dev/null ||
    fail_usage "'$program' not found; install the packages: apt-get install slurmctld slurmd slurm-client munge"
done
getent passwd munge >/dev/null || fail_usage "no 'munge' user (it comes with the munge package)"

mkdir -p "$state_arg"
state=$(cd "$state_arg" && pwd)
# The daemons must not take a folder of which another copy is running.
if [[ -s $state/pids ]]; then
  while read -r _ pid; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "start.sh: a local SLURM from $state is still running (PID $pid); run stop.sh $state first" >&2
      exit 1
    fi
  done <"$state/pids"
fi
# A port something answers on is taken (bash's /dev/tcp: no ss or netstat
# needed).
for port in "$ctld_port" "$slurmd_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "start.sh: port $port is in use; choose others with --ports CTLD,SLURMD" >&2
    exit 1
  fi
done

host=$(hostname -s)
[[ -n $cpus ]] || cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
[[ -n $cpus ]] || { echo "start.sh: 'slurmd -C' did not say how many CPUs there are" >&2; exit 1; }

# The munge user must reach its own folder through this one; munged refuses
# a key, socket or log folder that others may write to.
# PID files left by daemons that were killed would be read as the new ones'.
rm -f "$state/pids" "$state/munge/munged.pid" "$state/slurmctld.pid" "$state/slurmd.pid"
mkdir -p "$state/munge" "$state/slurmctld" "$state/slurmd" "$state/log"
chmod 755 "$state" "$state/log"
chown munge:munge "$state/munge"
chmod 755 "$state/munge"

# From here on a failure stops whatever was started.
started=0
on_exit() {
  local code=$?
  if ((!started)); then
    "$here/stop.sh" "$state" >&2 || true
    echo "start.sh: the local SLURM did not come up; logs in $state/log and $state/munge" >&2
    ((code != 0)) || code=1
  fi
  exit "$code"
}
trap on_exit EXIT

# Polls `$@` every 0.2 s until it succeeds; fails after `seconds`.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local tries=$((seconds * 5))
  until "$@" >/dev/null 2>&1; do
    if ((--tries <= 0)); then
      echo "start.sh: $what did not happen within $seconds s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# The daemons fork into the background and write their PID file; the PID is
# recorded at once, since they delete the file when they stop.
record_pid() {
  local name=$1 pid_file=$2
  wait_until 30 "$name writing $pid_file" test -s "$pid_file"
  local pid
  pid=$(<"$pid_file")
  echo "$name $pid" >>"$state/pids"
  kill -0 "$pid" 2>/dev/null || { echo "start.sh: $name (PID $pid) exited at once" >&2; return 1; }
}

munge_socket=$state/munge/munge.socket
munge_key=$state/munge/munge.key
[[ -s $munge_key ]] || runuser -u munge -- mungekey --create --keyfile="$munge_key"
runuser -u munge -- munged --socket="$munge_socket" --key-file="$munge_key" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" </dev/null
record_pid munged "$state/munge/munged.pid"
munge_answers() { munge --socket="$munge_socket" --no-input | unmunge --socket="$munge_socket"; }
wait_until 10 "munged answering on $munge_socket" munge_answers

sed -e "s|@STATE@|$state|g" -e "s|@HOST@|$host|g" -e "s|@CPUS@|$cpus|g" \
  -e "s|@CTLD_PORT@|$ctld_port|g" -e "s|@SLURMD_PORT@|$slurmd_port|g" \
  "$here/slurm.conf.in" >"$state/slurm.conf"
export SLURM_CONF=$state/slurm.conf

slurmctld -f "$SLURM_CONF" </dev/null >>"$state/log/slurmctld.out" 2>&1
record_pid slurmctld "$state/slurmctld.pid"
slurmd -f "$SLURM_CONF" </dev/null >>"$state/log/slurmd.out" 2>&1
record_pid slurmd "$state/slurmd.pid"

node_is_idle() { [[ $(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null) == idle ]]; }
wait_until 60 "node $host becoming idle" node_is_idle

started=1
echo "local SLURM up: node $host with $cpus CPUs, PIDs in $state/pids"
echo "export SLURM_CONF=$SLURM_CONF"
