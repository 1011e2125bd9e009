#!/usr/bin/env bash
# Data-parallel training on rented GPU nodes: mpirun starts `loom train`
# over ssh, one rank per slot of the hostfile (hostfile.sh writes one with
# slots = GPUs), every rank in this folder on its node.
#
#   cluster/cloud/launch.sh [--dry-run] [--iface IF] HOSTFILE CONFIG [loom train args...]
#   cluster/cloud/launch.sh --iface eth0 hostfile configs/gpt2_124m_bpe.yaml
#
# Every node needs the same checkout, build, config and token store at the
# same paths (sync.sh push), and ssh without a password between the nodes.
# --iface: the network interface the nodes share, for Open MPI, NCCL and
# Gloo alike (they may otherwise pick a docker bridge). Passed on to every
# rank when set here: NCCL_*, GLOO_*, OMP_NUM_THREADS, LOOM_*.
# Environment: LOOM (default: build/src/loom of this checkout), MPIRUN_ARGS
# (more mpirun arguments, split at spaces). --dry-run prints the command.
# To stop with a checkpoint (exit code 3; the same command goes on from
# it): kill -USR1 the mpirun process, which passes USR1 on to every rank.
# Exit code: mpirun's (loom's: 0 done, 3 stopped with a checkpoint).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=hosts.sh
source "$here/hosts.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

iface=
while (($#)); do
  case $1 in
    --dry-run) dry_run=1; shift ;;
    --iface) (($# >= 2)) || usage; iface=$2; shift 2 ;;
    -*) echo "launch.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($# >= 2)) || usage
hostfile=$1
config=$2
shift 2
require_hostfile "$hostfile"
[[ -f $config ]] || { echo "launch.sh: no config file '$config'" >&2; exit 2; }
loom=${LOOM:-$(cd "$here/../.." && pwd)/build/src/loom}
[[ -x $loom ]] || { echo "launch.sh: $loom not found; build first (make build) or set LOOM" >&2; exit 2; }

launch=(mpirun --hostfile "$hostfile" -np "$(hostfile_slots "$hostfile")" --wdir "$PWD"
  --map-by slot --bind-to none)
# Root may run mpirun only when it says so (some images log in as root).
((EUID != 0)) || launch+=(--allow-run-as-root)
if [[ -n $iface ]]; then
  launch+=(--mca btl_tcp_if_include "$iface" --mca oob_tcp_if_include "$iface"
    -x "NCCL_SOCKET_IFNAME=$iface" -x "GLOO_SOCKET_IFNAME=$iface")
fi
while read -r name; do
  [[ -n $iface && $name =~ ^(NCCL|GLOO)_SOCKET_IFNAME$ ]] && continue
  launch+=(-x "$name")
done < <(compgen -e | grep -E '^(NCCL_|GLOO_|LOOM_|OMP_NUM_THREADS$)' || true)
read -ra extra <<<"${MPIRUN_ARGS:-}"
launch+=("${extra[@]}" "$loom" train "$config" "$@")

if ((dry_run)); then
  run "${launch[@]}"
else
  exec "${launch[@]}"
fi
