# Shared by the local-hosts scripts (sourced, not run): reading a cluster's
# state folder, finding a host's sshd, and the token bucket for a rate.
# shellcheck shell=bash

# lh_die MESSAGE...: the calling script's name and MESSAGE on stderr, exit 1.
lh_die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# lh_read_state STATE_DIR: sets lh_state (absolute), lh_tag and lh_hosts
# from STATE_DIR/env, which start.sh writes first of all; fails
# when it is missing or names no cluster.
lh_read_state() {
  [[ -d $1 ]] || lh_die "no state folder $1"
  lh_state=$(cd "$1" && pwd)
  [[ -r $lh_state/env ]] || lh_die "$lh_state/env is missing: not a local-hosts cluster"
  # shellcheck disable=SC2034 # set by env, kept local
  local LOOM_HOSTS_TAG='' LOOM_HOSTS_N='' LOOM_HOSTS_SUBNET='' LOOM_HOSTS_STATE=''
  # shellcheck source=/dev/null
  source "$lh_state/env"
  [[ $LOOM_HOSTS_TAG =~ ^lh[0-9a-f]{5}$ && $LOOM_HOSTS_N =~ ^[1-9]$ ]] ||
    lh_die "$lh_state/env does not name a cluster"
  lh_tag=$LOOM_HOSTS_TAG
  lh_hosts=$LOOM_HOSTS_N
}

# lh_check_host NAME: fails unless NAME is one of the cluster's hosts h1..hN.
lh_check_host() {
  if [[ ! $1 =~ ^h([1-9])$ ]] || ((BASH_REMATCH[1] > lh_hosts)); then
    lh_die "no host '$1' in this cluster (h1..h$lh_hosts)"
  fi
}

# lh_sshd_pid NAME: prints the PID of host NAME's sshd as recorded in
# STATE/pids, after checking that the process still is that sshd: it runs
# /usr/sbin/sshd in the host's network namespace (a PID is reused once its
# process has gone, and every host runs an sshd).
lh_sshd_pid() {
  local name=$1 host program pid='' exe ns
  while read -r host program ns; do
    [[ $host == "$name" && $program == sshd && $ns =~ ^[0-9]+$ ]] && pid=$ns
  done <"$lh_state/pids"
  [[ -n $pid ]] || lh_die "no sshd recorded for $name in $lh_state/pids"
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe=
  [[ $exe == */sshd ]] || lh_die "$name's sshd (PID $pid) is not running; stop.sh and start.sh the cluster again"
  ns=$(stat -L -c %i "/run/netns/$lh_tag-$name" 2>/dev/null) || ns=
  [[ -n $ns && $(stat -L -c %i "/proc/$pid/ns/net") == "$ns" ]] ||
    lh_die "PID $pid is not $name's sshd (not in network namespace $lh_tag-$name)"
  echo "$pid"
}

# lh_burst RATE: prints the token bucket (bytes) for a tbf of RATE in tc's
# syntax (a number with bit, kbit, mbit, gbit, tbit, bps, kbps, ..., or
# kibit, mibit, ...; a bare number is bits/s): 4 ms at that rate, at least
# 32 KiB, so that 64 KiB GSO packets still pass whole at high rates and a
# slow rate still bursts a few frames. Fails on a rate it cannot read.
lh_burst() {
  [[ $1 =~ ^([0-9]+(\.[0-9]+)?)([a-zA-Z]*)$ ]] || return 1
  local number=${BASH_REMATCH[1]} unit=${BASH_REMATCH[3],,}
  awk -v n="$number" -v unit="$unit" 'BEGIN {
    split("k m g t", si, " ")
    scale[""] = 1; scale["bit"] = 1; scale["bps"] = 8
    for (i = 1; i <= 4; ++i) {
      scale[si[i] "bit"] = 1000 ^ i; scale[si[i] "ibit"] = 1024 ^ i
      scale[si[i] "bps"] = 8 * 1000 ^ i; scale[si[i] "ibps"] = 8 * 1024 ^ i
    }
    if (!(unit in scale) || n <= 0) exit 1
    burst = n * scale[unit] / 8 / 250
    printf "%d\n", burst < 32768 ? 32768 : burst
  }'
}
