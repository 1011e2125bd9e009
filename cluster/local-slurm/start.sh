#!/usr/bin/env bash
# Starts a local SLURM from Debian's packages (munge, slurmctld, slurmd) for
# Loom's cluster tests, with every file it writes (config, key, sockets,
# state, spool, logs, PID files) inside STATE_DIR and ports of its own, so
# it runs beside a machine's own munged or SLURM without touching them. No
# systemd: munged runs as the munge user (runuser), slurmctld and slurmd as
# root. Returns when every node is idle and takes jobs.
#
#   cluster/local-slurm/start.sh STATE_DIR [--cpus N] [--ports CTLD,SLURMD] [--hosts HOSTS_DIR]
#   export SLURM_CONF=STATE_DIR/slurm.conf    # for sbatch, squeue, scontrol ...
#   cluster/local-slurm/on.sh STATE_DIR sbatch ...   # with --hosts: from h1
#   cluster/local-slurm/stop.sh STATE_DIR
#
# Without --hosts: one node, this machine (its short host name, at
# 127.0.0.1). With --hosts HOSTS_DIR, the state folder of a running
# local-hosts cluster (cluster/local-hosts/start.sh): munged and slurmctld
# run on its host h1 and one slurmd on each host h1..hN, node hN at the
# host's address, all in one partition; the daemons and the jobs live in
# the hosts' namespaces, so the controller is reachable only from a host:
# run sbatch, squeue, scontrol there (on.sh, or local-hosts' on.sh with
# SLURM_CONF set). Each slurmd has its own spool folder, log and PID file
# (slurmd-hN, log/slurmd-hN.log, slurmd-hN.pid); STATE_DIR/local-hosts
# names HOSTS_DIR.
# --cpus: CPUs each node declares (default: what `slurmd -C` finds; more
# than the machine has is allowed). --ports: slurmctld's and slurmd's ports
# (default 16817,16818, not SLURM's usual 6817,6818; with --hosts every
# slurmd has the same port, each on its own host's address).
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
hosts_arg=
while (($#)); do
  case $1 in
    --cpus) (($# >= 2)) || usage; cpus=$2; shift 2 ;;
    --ports) (($# >= 2)) || usage; ports=$2; shift 2 ;;
    --hosts) (($# >= 2)) || usage; hosts_arg=$2; shift 2 ;;
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

# The nodes: this machine, or the hosts of a local-hosts cluster (each
# host's sshd must be running: lh_sshd_pid checks).
hosts_state=
if [[ -n $hosts_arg ]]; then
  # shellcheck source-path=SCRIPTDIR source=../local-hosts/common.sh
  source "$here/../local-hosts/common.sh"
  [[ -d $hosts_arg && -r $hosts_arg/env ]] || fail_usage "--hosts: $hosts_arg is not a local-hosts state folder (no env)"
  lh_read_state "$hosts_arg"
  hosts_state=$lh_state
  subnet=$(sed -n 's/^LOOM_HOSTS_SUBNET=//p' "$hosts_state/env")
  nodes=() addrs=()
  for ((i = 1; i <= lh_hosts; ++i)); do
    lh_sshd_pid "h$i" >/dev/null
    nodes+=("h$i")
    addrs+=("$subnet.$i")
  done
  ctld_host=h1
  node_tag=-%n
else
  nodes=("$(hostname -s)")
  addrs=(127.0.0.1)
  ctld_host=${nodes[0]}
  node_tag=
fi
ctld_addr=${addrs[0]}

# on HOST COMMAND...: runs COMMAND on a node (in its host's namespaces with
# --hosts, else here).
on() {
  local host=$1
  shift
  if [[ -n $hosts_state ]]; then
    "$here/../local-hosts/on.sh" "$hosts_state" "$host" "$@"
  else
    "$@"
  fi
}

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
# needed): slurmctld's on its host, slurmd's on every node.
# shellcheck disable=SC2016 # $0 and $1 are bash -c's, not this script's
port_taken() { on "$1" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>/dev/null; }
for ((i = 0; i < ${#nodes[@]}; ++i)); do
  node_ports=("$slurmd_port")
  ((i != 0)) || node_ports+=("$ctld_port")
  for port in "${node_ports[@]}"; do
    address=${addrs[i]}
    [[ -n $hosts_state ]] || address=127.0.0.1
    if port_taken "${nodes[i]}" "$address" "$port"; then
      echo "start.sh: port $port is in use${hosts_state:+ on ${nodes[i]}}; choose others with --ports CTLD,SLURMD" >&2
      exit 1
    fi
  done
done

[[ -n $cpus ]] || cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
[[ -n $cpus ]] || { echo "start.sh: 'slurmd -C' did not say how many CPUs there are" >&2; exit 1; }

# The munge user must reach its own folder through this one; munged refuses
# a key, socket or log folder that others may write to.
# PID files left by daemons that were killed would be read as the new ones'.
rm -f "$state/pids" "$state/munge/munged.pid" "$state/slurmctld.pid" "$state/slurmd.pid" "$state"/slurmd-h*.pid
mkdir -p "$state/munge" "$state/slurmctld" "$state/log"
if [[ -n $hosts_state ]]; then
  for node in "${nodes[@]}"; do mkdir -p "$state/slurmd-$node"; done
  echo "$hosts_state" >"$state/local-hosts"
else
  mkdir -p "$state/slurmd"
  rm -f "$state/local-hosts"
fi
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
# The socket is a file in STATE_DIR: slurmctld and every slurmd reach it
# from any host (the hosts share the file system).
on "$ctld_host" runuser -u munge -- munged --socket="$munge_socket" --key-file="$munge_key" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" </dev/null
record_pid munged "$state/munge/munged.pid"
munge_answers() { munge --socket="$munge_socket" --no-input | unmunge --socket="$munge_socket"; }
wait_until 10 "munged answering on $munge_socket" munge_answers

{
  sed -e "s|@STATE@|$state|g" -e "s|@CTLD_HOST@|$ctld_host|g" -e "s|@CTLD_ADDR@|$ctld_addr|g" \
    -e "s|@NODE@|$node_tag|g" -e "s|@CTLD_PORT@|$ctld_port|g" -e "s|@SLURMD_PORT@|$slurmd_port|g" \
    "$here/slurm.conf.in"
  for ((i = 0; i < ${#nodes[@]}; ++i)); do
    echo "NodeName=${nodes[i]} NodeAddr=${addrs[i]} CPUs=$cpus State=UNKNOWN"
  done
  echo "PartitionName=local Nodes=$(IFS=,; echo "${nodes[*]}") Default=YES MaxTime=INFINITE State=UP"
} >"$state/slurm.conf"
export SLURM_CONF=$state/slurm.conf

on "$ctld_host" slurmctld -f "$SLURM_CONF" </dev/null >>"$state/log/slurmctld.out" 2>&1
record_pid slurmctld "$state/slurmctld.pid"
if [[ -n $hosts_state ]]; then
  for node in "${nodes[@]}"; do
    # slurmd (22.05) does not start without cgroups at /sys/fs/cgroup, even
    # with proctrack/linuxproc and task/none, and a host's /sys is a sysfs
    # of its own network namespace (ip netns exec), with nothing under it.
    # In the host's own mount namespace, a tmpfs there with the "systemd"
    # cgroup v1 hierarchy (the machine's, mounted once more) is enough for
    # slurmd to take it for cgroup v1; it creates nothing in it, and the
    # machine's /sys/fs/cgroup stays as it is.
    # shellcheck disable=SC2016 # $cg is sh's
    on "$node" sh -c 'cg=/sys/fs/cgroup; mountpoint -q $cg/systemd && exit
      mountpoint -q $cg || mount -t tmpfs -o mode=755 loom-slurm $cg
      mkdir -p $cg/systemd && mount -t cgroup -o none,name=systemd cgroup $cg/systemd'
    on "$node" slurmd -f "$SLURM_CONF" -N "$node" </dev/null >>"$state/log/slurmd-$node.out" 2>&1
    record_pid "slurmd@$node" "$state/slurmd-$node.pid"
  done
else
  slurmd -f "$SLURM_CONF" </dev/null >>"$state/log/slurmd.out" 2>&1
  record_pid slurmd "$state/slurmd.pid"
fi

nodes_idle() {
  local states
  states=$(on "$ctld_host" sinfo --noheader --Node --format=%T 2>/dev/null) || return 1
  [[ $(grep -cx idle <<<"$states") == "${#nodes[@]}" ]]
}
wait_until 60 "every node (${nodes[*]}) becoming idle" nodes_idle

started=1
if [[ -n $hosts_state ]]; then
  echo "local SLURM up: nodes ${nodes[*]} (${addrs[*]}) with $cpus CPUs each, controller on $ctld_host, PIDs in $state/pids"
  echo "run sbatch, squeue, scontrol on a host: $here/on.sh $state sbatch ..."
else
  echo "local SLURM up: node ${nodes[0]} with $cpus CPUs, PIDs in $state/pids"
fi
echo "export SLURM_CONF=$SLURM_CONF"
