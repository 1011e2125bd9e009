#!/usr/bin/env bash
# Stops a local-hosts cluster (start.sh) and removes it: in every one of
# its network namespaces (TAG-h1.., TAG-sw, found by the tag in
# STATE_DIR/env), kills every process (the host's sshd, what ssh or on.sh
# started there, their children) with SIGKILL and waits until none is
# left, then deletes the namespace, which takes its veths and the bridge
# with it. Processes are found by namespace (ip netns pids), never by
# name, so nothing outside the cluster is touched. Works on a cluster that
# start.sh left half made, and again on one already stopped. The folder
# and its logs stay.
#
#   cluster/local-hosts/stop.sh STATE_DIR
#
# Exit codes: 0 nothing of the cluster is left (or there was none); 1 a
# process or namespace would not go; 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

(($# == 1)) || usage
if [[ ! -r $1/env ]]; then
  echo "stop.sh: nothing to stop (no $1/env)"
  exit 0
fi
lh_read_state "$1"

# The cluster's namespaces now: the hosts, then the switch (which runs
# nothing), so that no host is ever left without its switch.
namespaces() {
  ip netns list | awk -v prefix="$lh_tag-" '
    index($1, prefix) == 1 { if ($1 == prefix "sw") switch = $1; else print $1 }
    END { if (switch != "") print switch }'
}
mapfile -t spaces < <(namespaces)
if ((${#spaces[@]} == 0)); then
  echo "stop.sh: nothing to stop (no namespace $lh_tag-*)"
  exit 0
fi

status=0
for ns in "${spaces[@]}"; do
  # Kill until none is left: a process may fork between the listing and
  # its kill (sshd taking a connection). A killed process leaves the list
  # as soon as it has exited, whether or not its parent has reaped it.
  declare -A killed=()
  deadline=$((SECONDS + 10))
  while true; do
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
    ((${#pids[@]})) || break
    if ((SECONDS >= deadline)); then
      echo "stop.sh: processes ${pids[*]} in $ns still running 10 s after SIGKILL" >&2
      status=1
      break
    fi
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for pid in "${pids[@]}"; do killed[$pid]=1; done
    sleep 0.05
  done
  ((${#pids[@]} == 0)) || continue
  if ip netns del "$ns"; then
    message="stopped $ns"
    ((${#killed[@]} == 0)) || message+=" (killed ${#killed[@]} processes: ${!killed[*]})"
    echo "$message"
  else
    echo "stop.sh: could not delete namespace $ns" >&2
    status=1
  fi
done
mapfile -t left < <(namespaces)
if ((${#left[@]})); then
  echo "stop.sh: namespaces left: ${left[*]}" >&2
  status=1
fi
exit "$status"
