#!/usr/bin/env bash
# Does a modern layout train better? Whole runs of configs/shakespeare_char_cpu.yaml
# in four GPT layouts, two seeds each, against the LSTM baseline
# (configs/lstm_shakespeare_cpu.yaml), in one run on this machine:
#   gpt2          learned positions, LayerNorm, GELU MLP (the config as shipped)
#   rope          rotary positions
#   llama         rotary positions, RMSNorm, SwiGLU (parameter-matched)
#   llama_qk_norm the same with QK-norm
#   lstm          the LSTM baseline's config
#   1. equal steps: each config's 2000 steps;
#   2. equal wall time: each layout (and the LSTM) gets as many steps as fit
#      in the time the gpt2 layout took for its 2000, from the ms/step the
#      first part measured (median over the seeds), with the learning-rate
#      schedule (warmup, cosine decay to the last step) over those steps.
# For each run: steps, wall time, median ms/step, the time to the first
# evaluation with val <= 1.89, and the final validation loss; per layout the
# mean final loss over the seeds.
#
#   bench/layout_bench.sh [BUILD_DIR] [--seeds "1337 1338"] [--iters N] [--layouts "gpt2 rope ..."]
#
# --iters replaces the 2000 steps of part 1 (for a quick look). Precision is
# the config's (auto: bf16 on a CPU that multiplies bf16 natively), threads
# all cores, as a user runs it. Runs go to a temporary directory, removed on
# exit. Corpus: $LOOM_DATA, ../shared/data/tinyshakespeare.txt, else
# data/tinyshakespeare.txt.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# die and train_run (one `loom train` run and its figures).
# shellcheck source=bench/train_run.sh
source "$repo/bench/train_run.sh"

build=build
seeds="1337 1338"
iters=2000
layouts="gpt2 rope llama llama_qk_norm lstm"
while (($#)); do
  case $1 in
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --iters) iters=${2:?--iters needs a value}; shift 2 ;;
    --layouts) layouts=${2:?--layouts needs a value}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (expected --seeds, --iters, --layouts)" ;;
    *) build=$1; shift ;;
  esac
done
[[ " $layouts " == *" gpt2 "* ]] || die "--layouts must include gpt2: it sets part 2's time budget"
[[ $build = /* ]] || build="$repo/$build"
loom="$build/src/loom"
[[ -x $loom ]] || die "$loom is missing: build it first (make build)"
corpus=$(cd "$repo" && scripts/find-corpus.sh) || die "Tiny Shakespeare not found (set LOOM_DATA)"

work=$(mktemp -d /tmp/loom-layout-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$repo" rev-parse --short HEAD)"
"$loom" doctor | grep -E '^  (kernels|cpu|precision) ' || true
"$loom" prepare "$repo/configs/shakespeare_char_cpu.yaml" --input "$corpus" \
  --set data.store="$work/shakespeare_char.h5" >/dev/null

# The config and --set arguments of a layout.
layout_args() {
  case $1 in
    gpt2) echo "shakespeare_char_cpu.yaml" ;;
    rope) echo "shakespeare_char_cpu.yaml --set model.positions=rope" ;;
    llama) echo "shakespeare_char_cpu.yaml --set model.positions=rope --set model.norm=rmsnorm --set model.mlp=swiglu" ;;
    llama_qk_norm) echo "shakespeare_char_cpu.yaml --set model.positions=rope --set model.norm=rmsnorm --set model.mlp=swiglu --set model.qk_norm=true" ;;
    lstm) echo "lstm_shakespeare_cpu.yaml" ;;
    *) die "unknown layout '$1' (expected gpt2, rope, llama, llama_qk_norm, lstm)" ;;
  esac
}

declare -A median_ms
# Runs every layout for STEPS (a number, or "budget": part 2's per-layout
# steps) and prints the table rows.
run_part() {
  local steps_mode=$1
  printf '| %-13s | %-4s | %5s | %6s | %7s | %11s | %9s |\n' layout seed steps wall_s ms/step "to val<=1.89 s" "final val"
  printf '|---|---|---|---|---|---|---|\n'
  local layout seed steps args config wall ms reach final sum count
  for layout in $layouts; do
    read -r config args < <(layout_args "$layout")
    steps=$iters
    if [[ $steps_mode == budget ]]; then
      if [[ $layout == gpt2 ]]; then
        printf '| %-13s | | %5s | | | | as in part 1 |\n' "$layout" "$steps"
        continue
      fi
      steps=$(awk -v base="${median_ms[gpt2]}" -v own="${median_ms[$layout]}" -v n="$iters" \
        'BEGIN { printf "%d", n * base / own + 0.5 }')
    fi
    sum=0 count=0
    local all_ms=()
    for seed in $seeds; do
      # shellcheck disable=SC2086  # args holds several words on purpose
      read -r wall ms reach final < <(train_run "$config" auto "$seed" $args --set train.max_iters="$steps")
      printf '| %-13s | %-4s | %5s | %6s | %7s | %14s | %9s |\n' "$layout" "$seed" "$steps" "$wall" "$ms" "$reach" "$final"
      all_ms+=("$ms")
      sum=$(echo "$sum + $final" | bc -l)
      count=$((count + 1))
    done
    [[ $steps_mode == budget ]] || median_ms[$layout]=$(printf '%s\n' "${all_ms[@]}" | sort -n |
      awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    printf '| %-13s | mean | %5s | | | | %.4f |\n' "$layout" "$steps" "$(echo "$sum / $count" | bc -l)"
  done
}

echo
echo "== 1. equal steps: $iters each"
run_part fixed
echo
echo "== 2. equal wall time: the steps that fit in gpt2's time for $iters (${median_ms[gpt2]} ms/step)"
run_part budget
