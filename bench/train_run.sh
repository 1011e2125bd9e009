# shellcheck shell=bash disable=SC2154  # $repo, $loom and $work: the caller's
# Sourced by the training benches: die, and one `loom train` run and its
# figures.
#
#   die MESSAGE...   prints "bench: MESSAGE" to stderr and exits 1
#
#   train_run CONFIG PRECISION SEED [--set KEY=VALUE ...]
#
# trains configs/CONFIG on the Shakespeare store $work/shakespeare_char.h5
# (runs under $work/runs, no text samples) with `$loom`, timestamping every
# line of its output, and prints "wall_s median_ms_per_step to_1.89_s
# final_val": the wall time of the command, the median of the progress
# lines' ms/step, the time from the start to the first evaluation with val
# loss <= 1.89 ("not-reached" otherwise) and the final validation loss.
# Needs $repo, $loom and $work set by the caller.
train_run() {
  local config=$1 precision=$2 seed=$3
  shift 3
  local name log
  name="$(basename "$config" .yaml)-$precision-$seed-$RANDOM"
  log="$work/$name.log"
  local start=$EPOCHREALTIME
  "$loom" train "$repo/configs/$config" --set data.store="$work/shakespeare_char.h5" \
    --set run.out_dir="$work/runs" --set run.name="$name" --set run.seed="$seed" \
    --set train.precision="$precision" --set eval.samples=0 "$@" 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$log"
  local median
  median=$(awk '/ step [0-9]+\/[0-9]+ \| loss / { for (i = 2; i <= NF; i++) if ($i == "ms/step") print $(i - 1) }' "$log" |
    sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
  awk -v start="$start" -v median="$median" '
    /: train loss [0-9.]+, val loss [0-9.]+/ {
      for (i = 1; i < NF; i++) if ($i == "val" && $(i + 1) == "loss") { v = $(i + 2) + 0; if (v <= 1.89 && reach == "") reach = $1 - start }
    }
    /final val loss/ { final = $NF }
    { last = $1 }
    END { printf "%.1f %s %s %s\n", last - start, median, (reach == "" ? "not-reached" : sprintf("%.1f", reach)), final }' "$log"
}

die() {
  echo "bench: $*" >&2
  exit 1
}
