#!/usr/bin/env bash
# Runs one shell command on every node of a hostfile over ssh, node after
# node, each output line prefixed with its node: installing Loom's
# dependencies, building, checking GPUs before a launch.
#
#   cluster/cloud/each-node.sh [--dry-run] HOSTFILE COMMAND
#   cluster/cloud/each-node.sh hostfile 'cd ~/loom && scripts/install-deps.sh && make build'
#   cluster/cloud/each-node.sh hostfile nvidia-smi
#
# Exit codes: 0 it succeeded everywhere; 1 it failed on a node (the
# others are still run, and the failures listed); 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=hosts.sh
source "$here/hosts.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

[[ ${1:-} == --dry-run ]] && { dry_run=1; shift; }
(($# == 2)) || usage
hostfile=$1
command=$2
require_hostfile "$hostfile"

mapfile -t hosts < <(hostfile_hosts "$hostfile")
failed=()
for host in "${hosts[@]}"; do
  ssh_command=(ssh -n -o BatchMode=yes "$host" "$command")
  if ((dry_run)); then
    run "${ssh_command[@]}"
  elif ! "${ssh_command[@]}" 2>&1 | sed "s/^/[$host] /"; then
    failed+=("$host")
  fi
done

if ((${#failed[@]})); then
  echo "each-node.sh: failed on ${failed[*]}" >&2
  exit 1
fi
