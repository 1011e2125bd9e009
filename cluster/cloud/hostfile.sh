#!/usr/bin/env bash
# Writes an Open MPI hostfile for rented GPU nodes: one line per node,
# slots = its GPUs, so mpirun starts one rank per GPU. The GPUs of a node
# come from HOST:N, else --gpus N, else from the node itself over ssh
# (`nvidia-smi --list-gpus`).
#
#   cluster/cloud/hostfile.sh [--gpus N] [-o FILE] HOST[:GPUS]...
#   cluster/cloud/hostfile.sh --gpus 8 -o hostfile 10.0.0.11 10.0.0.12
#   cluster/cloud/hostfile.sh -o hostfile gpu-a gpu-b:4    # asks gpu-a
#
# HOST is a name or address that ssh reaches without a password (a user
# goes in ~/.ssh/config, since mpirun reads the same names). Without -o the
# hostfile goes to stdout. Exit codes: 0 written; 1 a node could not be
# asked; 2 bad usage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/usage.sh"

fail_usage() {
  echo "hostfile.sh: $*" >&2
  exit 2
}

gpus=
out=
hosts=()
while (($#)); do
  case $1 in
    --gpus) (($# >= 2)) || usage; gpus=$2; shift 2 ;;
    -o) (($# >= 2)) || usage; out=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) fail_usage "unknown option '$1'" ;;
    *) hosts+=("$1"); shift ;;
  esac
done
((${#hosts[@]})) || fail_usage "no hosts given"
[[ -z $gpus || $gpus =~ ^[1-9][0-9]*$ ]] || fail_usage "--gpus must be a positive integer, got '$gpus'"

lines=()
for spec in "${hosts[@]}"; do
  [[ $spec =~ ^([A-Za-z0-9][A-Za-z0-9._-]*)(:([1-9][0-9]*))?$ ]] ||
    fail_usage "'$spec' is not HOST or HOST:GPUS (a host name or address, and a positive count)"
  host=${BASH_REMATCH[1]}
  slots=${BASH_REMATCH[3]:-$gpus}
  if [[ -z $slots ]]; then
    slots=$(ssh -o BatchMode=yes "$host" nvidia-smi --list-gpus | grep -c '^GPU ') || {
      echo "hostfile.sh: could not count the GPUs of $host over ssh; give them as $host:N or --gpus N" >&2
      exit 1
    }
  fi
  lines+=("$host slots=$slots")
done

if [[ -n $out ]]; then
  printf '%s\n' "${lines[@]}" >"$out.tmp"
  mv "$out.tmp" "$out"
else
  printf '%s\n' "${lines[@]}"
fi
