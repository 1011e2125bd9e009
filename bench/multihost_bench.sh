#!/usr/bin/env bash
# Data parallelism across hosts: tokens/s of configs/shakespeare_char_cpu.yaml
# (0.8M parameters, a 3.2 MB gradient all-reduce per step) trained by two
# ranks of one thread each, placed as 1 host x 2 ranks (shared memory
# between them) against 2 hosts x 1 rank of a local-hosts cluster (TCP over
# a bridge between network namespaces), the links unlimited and
# rate-limited by tc's tbf to 10 Gb/s, 1 Gb/s and 100 Mb/s. For each: the
# median step, tokens/s, and the share of the step a rank waits after
# backward for the all-reduce (sync_wait_ms); then one median step's bucket
# timeline (dist.timeline, 1 MiB buckets): when backward ended and when
# each bucket's all-reduce was posted and found done, to show the
# reductions overlapping backward across hosts.
#
#   bench/multihost_bench.sh [BUILD_DIR] [STEPS]     (defaults: build, 300)
#
# Root (network namespaces). Corpus: $LOOM_DATA, else
# ../shared/data/tinyshakespeare.txt beside the repo. Everything else goes
# to a temporary directory; the cluster is stopped on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
steps=${2:-300}
loom="$build/src/loom"
corpus=${LOOM_DATA:-$repo/../shared/data/tinyshakespeare.txt}
hosts=$repo/cluster/local-hosts
[[ -x $loom ]] || { echo "bench: $loom not found" >&2; exit 1; }
[[ -f $corpus ]] || { echo "bench: corpus $corpus not found (set LOOM_DATA)" >&2; exit 1; }
((EUID == 0)) || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
work=$(mktemp -d)
state=$work/hosts
trap '"$hosts/stop.sh" "$state" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

config="$repo/configs/shakespeare_char_cpu.yaml"
"$loom" prepare "$config" --input "$corpus" --out "$work/store.h5" --force >/dev/null
"$hosts/start.sh" --hosts 2 "$state" >/dev/null
common=(--no-progress-bar --set data.store="$work/store.h5" --set run.out_dir="$work/runs"
  --set train.max_iters="$steps" --set optim.lr_decay_iters="$steps" --set train.log_interval=1
  --set eval.interval=0 --set eval.samples=0 --set run.threads=1 --set dist.timeline=true
  --set dist.bucket_mb=1)

# train_on HOSTS NAME: mpirun from h1, one rank per host named in HOSTS
# (h1:2 for both on h1), TCP on eth0 between hosts.
train_on() {
  "$hosts/on.sh" "$state" h1 mpirun --allow-run-as-root --host "$1" -np 2 --bind-to none \
    --mca plm_rsh_agent "ssh -F $state/ssh_config" --mca btl_tcp_if_include eth0 \
    --mca oob_tcp_if_include eth0 \
    "$loom" train "$config" "${common[@]}" --set run.name="$2" >"$work/$2.log" 2>&1 ||
    { tail -n 20 "$work/$2.log" >&2; exit 1; }
}

rows() { /usr/bin/python3 "$repo/bench/metrics_rows.py" "$1" "$2" "$work/runs/$3/metrics.jsonl" 5; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $steps steps"
echo
# label|mpirun --host|run name|tc rate
layouts=("1 host x 2 ranks (shared memory)|h1:2|one_host|off"
  "2 hosts x 1 rank, link unlimited|h1,h2|two_hosts|off"
  "2 hosts x 1 rank, 10 Gb/s|h1,h2|two_hosts_10g|10gbit"
  "2 hosts x 1 rank, 1 Gb/s|h1,h2|two_hosts_1g|1gbit"
  "2 hosts x 1 rank, 100 Mb/s|h1,h2|two_hosts_100m|100mbit")
for layout in "${layouts[@]}"; do
  IFS='|' read -r _ placement name rate <<<"$layout"
  "$hosts/shape.sh" "$state" "$rate" >/dev/null
  train_on "$placement" "$name"
done
timeline_rows=()
echo "| layout | median ms/step | tokens/s | mean all-reduce wait ms (share of step) |"
echo "|---|---|---|---|"
for layout in "${layouts[@]}"; do
  IFS='|' read -r label _ name _ <<<"$layout"
  rows summary "$label" "$name"
  timeline_rows+=("$(rows timeline "$label" "$name")")
done
echo
echo "Bucket timeline of a median step (ms from the start of the last micro-step;"
echo "each bucket: all-reduce posted -> found done; done at backward's end means it"
echo "finished while backward still ran):"
echo
echo "| layout | step | backward ends | buckets |"
echo "|---|---|---|---|"
printf '%s\n' "${timeline_rows[@]}"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
