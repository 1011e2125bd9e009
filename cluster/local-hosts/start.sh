#!/usr/bin/env bash
# Starts a small cluster of "hosts" on this machine for Loom's tests of
# training across hosts: each host is a network namespace with its own
# address, host name, /etc/hosts and sshd, and the hosts meet on a Linux
# bridge in a switch namespace of their own, so that mpirun, ssh and TCP go
# over real (virtual) links that can be slowed down (--rate, shape.sh) or
# unplugged (link.sh). Nothing is created in the root network namespace and
# nothing of the machine's own network, host name, /etc/hosts or sshd is
# touched; every name carries a tag of this cluster's own, so clusters that
# tests start side by side never collide.
#
#   cluster/local-hosts/start.sh [--hosts N] [--rate RATE] [--subnet A.B.C] STATE_DIR
#   cluster/local-hosts/on.sh STATE_DIR h1 ssh -F STATE_DIR/ssh_config h2 hostname
#   cluster/local-hosts/stop.sh STATE_DIR
#
# --hosts: how many hosts, 1-9 (default 2), named h1..hN with the addresses
# A.B.C.1..A.B.C.N/24. --subnet: A.B.C (default 10.213.77). --rate: a token
# bucket (tc's tbf) on every host's outgoing traffic, in tc's syntax
# (10gbit, 1gbit, 100mbit); shape.sh changes it later.
# Namespaces: TAG-sw (the bridge br0, one port hN per host) and TAG-h1 ..
# TAG-hN (eth0, lo), TAG being `lh` and 5 random hex digits (STATE_DIR/tag).
# Each host's sshd runs in the host's network, UTS and mount namespaces,
# where the host name is hN and /etc/hosts is STATE_DIR/hosts (bind-mounted,
# private to those namespaces); its PID is in STATE_DIR/pids (`hN sshd PID`).
# STATE_DIR also gets the keys, sshd_config.hN, ssh_config (Host h1..hN,
# root, this cluster's key), hostfile (Open MPI's: `hN slots=1`), env
# (LOOM_HOSTS_TAG, LOOM_HOSTS_N, LOOM_HOSTS_SUBNET, LOOM_HOSTS_STATE) and
# log/sshd-hN.log.
# Needs root, iproute2, openssh-server and util-linux's unshare. STATE_DIR
# must be empty or absent. Returns when every host's sshd takes an ssh
# connection from its neighbour h(N-1) across the bridge. Exit codes: 0 up;
# 1 failed to come up (what it had started is stopped again, logs stay in
# STATE_DIR/log); 2 bad usage or a missing program.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

fail_usage() {
  echo "start.sh: $*" >&2
  exit 2
}

hosts=2
rate=
subnet=10.213.77
state_arg=
while (($#)); do
  case $1 in
    --hosts) (($# >= 2)) || usage; hosts=$2; shift 2 ;;
    --rate) (($# >= 2)) || usage; rate=$2; shift 2 ;;
    --subnet) (($# >= 2)) || usage; subnet=$2; shift 2 ;;
    -*) fail_usage "unknown option '$1'" ;;
    *) [[ -z $state_arg ]] || usage; state_arg=$1; shift ;;
  esac
done
[[ -n $state_arg ]] || usage
[[ $hosts =~ ^[1-9]$ ]] || fail_usage "--hosts must be 1 to 9, got '$hosts'"
octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
[[ $subnet =~ ^$octet\.$octet\.$octet$ ]] || fail_usage "--subnet must be A.B.C (a /24), got '$subnet'"
[[ -z $rate ]] || lh_burst "$rate" >/dev/null ||
  fail_usage "--rate must be a rate in tc's syntax (10gbit, 1gbit, 100mbit), got '$rate'"

((EUID == 0)) || fail_usage "must run as root (it creates network namespaces and runs sshd)"
for program in ip tc unshare nsenter /usr/sbin/sshd ssh ssh-keygen; do
  command -v "$program" >/dev/null ||
    fail_usage "'$program' not found; install the packages: apt-get install iproute2 openssh-server util-linux"
done
getent passwd sshd >/dev/null || fail_usage "no 'sshd' user (sshd's privilege separation; it comes with openssh-server)"

if [[ -e $state_arg ]]; then
  [[ -d $state_arg && -z $(ls -A "$state_arg") ]] ||
    fail_usage "$state_arg must be an empty folder or absent (stop.sh a cluster there and remove it first)"
fi
mkdir -p "$state_arg/log"
state=$(cd "$state_arg" && pwd)
chmod 755 "$state"

# A tag no namespace on the machine has yet (16^5 to choose from).
tag=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  candidate=lh$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
  if ! ip netns list | awk -v prefix="$candidate-" 'index($1, prefix) == 1 { found = 1 } END { exit !found }'; then
    tag=$candidate
    break
  fi
done
[[ -n $tag ]] || { echo "start.sh: found no free tag for the namespaces" >&2; exit 1; }

# env first: stop.sh finds the cluster's namespaces by its tag, from here on.
echo "$tag" >"$state/tag"
cat >"$state/env" <<EOF
LOOM_HOSTS_TAG=$tag
LOOM_HOSTS_N=$hosts
LOOM_HOSTS_SUBNET=$subnet
LOOM_HOSTS_STATE=$state
EOF
: >"$state/pids"

# From here on a failure stops whatever was started.
started=0
on_exit() {
  local code=$?
  if ((!started)); then
    local log
    for log in "$state"/log/sshd-h*.out "$state"/log/sshd-h*.log; do
      [[ -s $log ]] || continue
      echo "--- $log:" >&2
      tail -n 20 "$log" >&2
    done
    "$here/stop.sh" "$state" >&2 || true
    echo "start.sh: the cluster did not come up; logs in $state/log" >&2
    ((code != 0)) || code=1
  fi
  exit "$code"
}
trap on_exit EXIT

# Keys: one host key for every host (they are one machine), one client key.
ssh-keygen -q -t ed25519 -N '' -C "$tag host" -f "$state/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C "$tag root" -f "$state/id_ed25519"
cp "$state/id_ed25519.pub" "$state/authorized_keys"

{
  echo "127.0.0.1 localhost"
  echo "::1 localhost ip6-localhost ip6-loopback"
  for ((i = 1; i <= hosts; ++i)); do echo "$subnet.$i h$i"; done
} >"$state/hosts"
for ((i = 1; i <= hosts; ++i)); do echo "h$i slots=1"; done >"$state/hostfile"
{
  for ((i = 1; i <= hosts; ++i)); do
    printf 'Host h%d\n  HostName %s.%d\n' "$i" "$subnet" "$i"
  done
  cat <<EOF
Host *
  User root
  IdentityFile $state/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
  ConnectTimeout 5
EOF
} >"$state/ssh_config"
for ((i = 1; i <= hosts; ++i)); do
  cat >"$state/sshd_config.h$i" <<EOF
# sshd of host h$i of local-hosts cluster $tag (cluster/local-hosts/start.sh)
ListenAddress $subnet.$i
Port 22
HostKey $state/ssh_host_ed25519_key
AuthorizedKeysFile $state/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
LogLevel INFO
Subsystem sftp internal-sftp
EOF
done
# sshd's privilege separation folder (Debian's service creates it at boot;
# without it sshd refuses to start).
mkdir -p /run/sshd
chmod 755 /run/sshd
for ((i = 1; i <= hosts; ++i)); do /usr/sbin/sshd -t -f "$state/sshd_config.h$i"; done

# The network: a bridge in the switch namespace, a veth pair per host made
# right in the two namespaces it joins.
sw=$tag-sw
ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for ((i = 1; i <= hosts; ++i)); do
  ns=$tag-h$i
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$sw" link add "h$i" type veth peer name eth0 netns "$ns"
  ip -n "$sw" link set "h$i" master br0 up
  ip -n "$ns" addr add "$subnet.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
[[ -z $rate ]] || "$here/shape.sh" "$state" "$rate"

# The hosts' sshd. ip netns exec, unshare and sh each exec the next, so $!
# is sshd's PID. unshare's mount namespace is private: the bind mount of
# /etc/hosts stays in it. sshd runs in the foreground (-D), logs to
# log/sshd-hN.log (-e -E) and needs an absolute path (it re-executes
# itself for every connection).
for ((i = 1; i <= hosts; ++i)); do
  # shellcheck disable=SC2016 # $1..$4 are sh's, not this script's
  ip netns exec "$tag-h$i" unshare --uts --mount --propagation private \
    sh -c 'hostname "$1" && mount --bind "$2" /etc/hosts && exec /usr/sbin/sshd -D -e -f "$3" -E "$4"' \
    sh "h$i" "$state/hosts" "$state/sshd_config.h$i" "$state/log/sshd-h$i.log" \
    </dev/null >>"$state/log/sshd-h$i.out" 2>&1 &
  echo "h$i sshd $!" >>"$state/pids"
  disown # stop.sh's kills are no news for this shell
done

# Polls `$@` every 0.1 s until it succeeds; fails after `seconds`.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" </dev/null >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "start.sh: $what did not happen within $seconds s" >&2
      return 1
    fi
    sleep 0.1
  done
}
# Up to sshd, each start execs three programs; when one fails, it exits.
lh_state=$state lh_tag=$tag lh_hosts=$hosts
while read -r name _ pid; do
  deadline=$((SECONDS + 10))
  until [[ $(readlink "/proc/$pid/exe") == /usr/sbin/sshd ]]; do
    if [[ ! -e /proc/$pid || $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
      echo "start.sh: $name's sshd (PID $pid) exited at once" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "start.sh: $name's sshd (PID $pid) did not start within 10 s" >&2
      exit 1
    fi
    sleep 0.1
  done
  lh_sshd_pid "$name" >/dev/null
done <"$state/pids"
# Every sshd takes a connection from the host before it (h1's from hN),
# over the bridge: the whole path a launcher's ssh takes.
for ((i = 1; i <= hosts; ++i)); do
  from=h$(((i + hosts - 2) % hosts + 1))
  wait_until 10 "an ssh from $from to h$i" \
    "$here/on.sh" "$state" "$from" ssh -F "$state/ssh_config" -o ConnectTimeout=2 "h$i" true
done

started=1
echo "local hosts up: h1..h$hosts ($subnet.1-$hosts), namespaces $tag-h1..$tag-h$hosts and $tag-sw${rate:+, $rate per host}"
echo "  cluster/local-hosts/on.sh $state h1 ssh -F $state/ssh_config h$hosts hostname"
