#!/usr/bin/env bash
# Data-parallel training on one machine: NPROC ranks of `loom train` under
# mpirun, each pinned to its share of the cores with that many LibTorch
# threads (run.threads = cores / NPROC).
#
#   launch/run_local.sh NPROC CONFIG [loom train args...]
#   launch/run_local.sh 2 configs/shakespeare_char_cpu.yaml --set train.max_iters=500
#
# Environment: LOOM (the loom binary; default build/src/loom beside this
# checkout), MPIRUN_ARGS (extra mpirun arguments, e.g. a hostfile).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib/usage.sh"

(($# >= 2)) || usage
nproc_ranks=$1
config=$2
shift 2
[[ $nproc_ranks =~ ^[1-9][0-9]*$ ]] || { echo "run_local.sh: NPROC must be a positive integer, got '$nproc_ranks'" >&2; exit 2; }
[[ -f $config ]] || { echo "run_local.sh: no config file '$config'" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
loom=${LOOM:-$repo/build/src/loom}
[[ -x $loom ]] || { echo "run_local.sh: $loom not found; build first (make build) or set LOOM" >&2; exit 2; }

cores=$(nproc)
threads=$((cores / nproc_ranks))
((threads >= 1)) || threads=1

# Root may run mpirun only when it says so (containers, CI).
root_args=()
[[ $(id -u) -eq 0 ]] && root_args=(--allow-run-as-root)
# Each rank on its own run of `threads` cores; more ranks than cores share.
binding=(--map-by "slot:PE=$threads" --bind-to core)
((nproc_ranks > cores)) && binding=(--oversubscribe --bind-to none)

# shellcheck disable=SC2086 # MPIRUN_ARGS is a list of words by design
exec mpirun "${root_args[@]}" "${binding[@]}" -np "$nproc_ranks" ${MPIRUN_ARGS:-} \
  -x OMP_NUM_THREADS="$threads" \
  "$loom" train "$config" --set run.threads="$threads" "$@"
