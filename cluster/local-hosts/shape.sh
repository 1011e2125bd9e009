#!/usr/bin/env bash
# Sets the bandwidth of every host of a local-hosts cluster (start.sh):
# a token bucket filter (tc's tbf) on each host's eth0, which limits what
# the host sends to RATE (so a transfer between two hosts runs at RATE
# at most), or takes it away (off). The bucket holds 4 ms at RATE, at
# least 32 KiB; packets wait in it up to 50 ms before they are dropped.
# (This kernel has tbf and htb but no netem: no delay or loss.)
#
#   cluster/local-hosts/shape.sh STATE_DIR RATE|off
#   cluster/local-hosts/shape.sh /tmp/hosts 1gbit
#
# RATE in tc's syntax: 10gbit, 1gbit, 100mbit, 50mbps (bytes). Exit codes:
# 0 done; 1 no such cluster, or tc failed; 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

(($# == 2)) || usage
rate=$2
burst=
if [[ $rate != off ]]; then
  burst=$(lh_burst "$rate") || {
    echo "shape.sh: '$rate' is not a rate in tc's syntax (10gbit, 1gbit, 100mbit) or off" >&2
    exit 2
  }
fi
lh_read_state "$1"
for ((i = 1; i <= lh_hosts; ++i)); do
  ns=$lh_tag-h$i
  if [[ $rate == off ]]; then
    # Nothing to take away is no failure.
    if [[ $(tc -n "$ns" qdisc show dev eth0 root) == *"qdisc tbf "* ]]; then
      tc -n "$ns" qdisc del dev eth0 root
    fi
  else
    tc -n "$ns" qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency 50ms
  fi
done
if [[ $rate == off ]]; then
  echo "no rate limit on h1..h$lh_hosts"
else
  echo "h1..h$lh_hosts send at $rate at most (tbf, burst $burst bytes)"
fi
