#!/usr/bin/env bash
# Data parallelism on one machine at equal cores: tokens/s of
# configs/shakespeare_char_cpu.yaml trained by 1 rank x 2 threads (batch
# slices on two worker threads) against 2 ranks x 1 thread (mpirun, MPI
# gradient all-reduce), and the share of the step the ranks spend waiting
# for the all-reduce after backward. Target: 2 ranks at least 0.9x the one
# process.
#
#   bench/data_parallel_bench.sh [BUILD_DIR] [STEPS]     (defaults: build, 500)
#
# Corpus: $LOOM_DATA, else ../shared/data/tinyshakespeare.txt beside the
# repo. Everything else goes to a temporary directory.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
steps=${2:-500}
loom="$build/src/loom"
corpus=${LOOM_DATA:-$repo/../shared/data/tinyshakespeare.txt}
[[ -x $loom ]] || { echo "bench: $loom not found" >&2; exit 1; }
[[ -f $corpus ]] || { echo "bench: corpus $corpus not found (set LOOM_DATA)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

config="$repo/configs/shakespeare_char_cpu.yaml"
"$loom" prepare "$config" --input "$corpus" --out "$work/store.h5" --force >/dev/null
common=(--no-progress-bar --set data.store="$work/store.h5" --set run.out_dir="$work/runs"
  --set train.max_iters="$steps" --set optim.lr_decay_iters="$steps" --set train.log_interval=1
  --set eval.interval=0 --set eval.samples=0)

"$loom" train "$config" "${common[@]}" --set run.name=one_rank --set run.threads=2 >/dev/null
LOOM="$loom" "$repo/launch/run_local.sh" 2 "$config" "${common[@]}" --set run.name=two_ranks >/dev/null

summary() { /usr/bin/python3 "$repo/bench/metrics_rows.py" summary "$1" "$2" 1; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $steps steps"
echo
echo "| layout | median ms/step | tokens/s | mean all-reduce wait ms (share of step) |"
echo "|---|---|---|---|"
summary "1 rank x 2 threads (batch slices)" "$work/runs/one_rank/metrics.jsonl"
summary "2 ranks x 1 thread (MPI)" "$work/runs/two_ranks/metrics.jsonl"
