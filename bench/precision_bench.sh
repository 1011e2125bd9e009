#!/usr/bin/env bash
# fp32 against bf16 autocast on this CPU, in one run:
#   1. quality and speed: whole runs of configs/shakespeare_char_cpu.yaml and
#      configs/lstm_shakespeare_cpu.yaml, two seeds each, in each precision:
#      wall time, median ms/step, wall time to the first evaluation with
#      val <= 1.89, and the final validation loss;
#   2. a shared CPU: 300 steps of shakespeare_char_cpu quiet, then with one
#      busy process per core spinning beside it, in each precision: the
#      slowdown should stay under 2.5x.
#
#   bench/precision_bench.sh [BUILD_DIR] [--seeds "1337 1338"] [--iters N] [--skip-busy]
#
# Loom runs as a user runs it: no OPENBLAS_CORETYPE unless the caller set
# one (Loom chooses the kernels), run.threads 0. `loom doctor`'s CPU and
# precision lines are printed first. Runs go to a temporary directory,
# removed on exit. Corpus: $LOOM_DATA, ../shared/data/tinyshakespeare.txt,
# else data/tinyshakespeare.txt.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# die and train_run (one `loom train` run and its figures).
# shellcheck source=bench/train_run.sh
source "$repo/bench/train_run.sh"

build=build
seeds="1337 1338"
iters=""
busy=1
while (($#)); do
  case $1 in
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --iters) iters=${2:?--iters needs a value}; shift 2 ;;
    --skip-busy) busy=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (expected --seeds, --iters, --skip-busy)" ;;
    *) build=$1; shift ;;
  esac
done
[[ $build = /* ]] || build="$repo/$build"
loom="$build/src/loom"
[[ -x $loom ]] || die "$loom is missing: build it first (make build)"
corpus=$(cd "$repo" && scripts/find-corpus.sh) || die "Tiny Shakespeare not found (set LOOM_DATA)"

work=$(mktemp -d /tmp/loom-precision-bench.XXXXXX)
spinners=()
cleanup() {
  ((${#spinners[@]})) && kill "${spinners[@]}" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$repo" rev-parse --short HEAD)"
"$loom" doctor | grep -E '^  (model|extensions|kernels|cpu) '
"$loom" prepare "$repo/configs/shakespeare_char_cpu.yaml" --input "$corpus" \
  --set data.store="$work/shakespeare_char.h5" >/dev/null

# train CONFIG PRECISION SEED [--set ...]: train_run, with --iters.
train() {
  train_run "$@" ${iters:+--set train.max_iters=$iters}
}

echo
echo "== 1. whole runs, in each precision"
printf '| %-22s | %-4s | %-9s | %6s | %8s | %11s | %9s |\n' config seed precision wall_s ms/step "to val<=1.89 s" "final val"
for config in shakespeare_char_cpu.yaml lstm_shakespeare_cpu.yaml; do
  for seed in $seeds; do
    for precision in fp32 bf16; do
      read -r wall ms reach final < <(train "$config" "$precision" "$seed")
      printf '| %-22s | %-4s | %-9s | %6s | %8s | %14s | %9s |\n' "${config%.yaml}" "$seed" "$precision" "$wall" "$ms" "$reach" "$final"
    done
  done
done

((busy)) || exit 0
echo
echo "== 2. 300 steps on a shared CPU: quiet, then beside one spinning process per core"
printf '| %-9s | %7s | %7s | %8s |\n' precision quiet_s busy_s slowdown
for precision in fp32 bf16; do
  read -r quiet _ < <(train shakespeare_char_cpu.yaml "$precision" 1337 --set train.max_iters=300 --set eval.interval=300)
  for ((core = 0; core < $(nproc); core++)); do
    (while :; do :; done) &
    spinners+=($!)
  done
  read -r shared _ < <(train shakespeare_char_cpu.yaml "$precision" 1337 --set train.max_iters=300 --set eval.interval=300)
  kill "${spinners[@]}" 2>/dev/null
  wait "${spinners[@]}" 2>/dev/null || true
  spinners=()
  printf '| %-9s | %7s | %7s | %7.2fx |\n' "$precision" "$quiet" "$shared" "$(echo "$shared / $quiet" | bc -l)"
done
