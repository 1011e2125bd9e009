#!/usr/bin/env bash
# Training speed: milliseconds per optimizer step of `loom train` against
# nanoGPT's train.py, on the same machine, in the same run, with the same
# thread count, for two configs:
#   - small: configs/shakespeare_char_cpu.yaml against nanoGPT's README CPU
#     recipe (4 layers, 4 heads, 128 wide, block 64, batch 12, no dropout,
#     eval every 250 steps over 20 batches), whole runs of --small-iters steps;
#   - full: the first --full-iters steps of configs/shakespeare_char.yaml
#     against nanoGPT's config/train_shakespeare_char.py (6 layers, 384 wide,
#     block 256, batch 64), each evaluating once on one batch per split
#     (nanoGPT before its first step, Loom after its last).
# Loom writes no text samples at evaluations (nanoGPT writes none). Both sides
# print the model and batch they train; a mismatch is flagged.
# Per step: the median (step 1 / iteration 0 and the iterations that include
# an evaluation are left out); per run: the wall time of the training command
# and the last validation loss.
#
#   NANOGPT_REPO=/path/to/nanoGPT bench/train_bench.sh [BUILD_DIR] [--small-iters N] [--full-iters N] [--threads T]
#
# Defaults: build, 2000 small steps, 10 full steps, 2 threads. NANOGPT_REPO is a
# nanoGPT checkout (a working tree, or any git repository, bare included, whose
# HEAD is used); nanoGPT runs under /usr/bin/python3 with Debian's python3-torch
# and python3-numpy. Without NANOGPT_REPO the nanoGPT column holds reference
# figures measured earlier on the 2-core development VM.
# Corpus: $LOOM_DATA, else ../shared/data/tinyshakespeare.txt beside the repo,
# else data/tinyshakespeare.txt. Everything else goes to a temporary directory
# that is removed on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=/usr/bin/python3

die() {
  echo "bench: $*" >&2
  exit 1
}
note() { echo "bench: $*" >&2; }

build=""
small_iters=2000
full_iters=10
threads=2
while (($#)); do
  case $1 in
    --small-iters | --full-iters | --threads)
      (($# >= 2)) || die "$1 needs a value"
      [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: expected a positive integer, found '$2'"
      case $1 in
        --small-iters) small_iters=$2 ;;
        --full-iters) full_iters=$2 ;;
        --threads) threads=$2 ;;
      esac
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option '$1' (expected --small-iters, --full-iters, --threads)" ;;
    *)
      [[ -z $build ]] || die "one build directory expected, found '$build' and '$1'"
      build=$1
      shift
      ;;
  esac
done
# The first step (and nanoGPT's iteration 0) is left out of the median.
((full_iters >= 2)) || die "--full-iters: at least 2 steps are needed for a per-step figure"
((small_iters >= 2)) || die "--small-iters: at least 2 steps are needed for a per-step figure"
build=${build:-build}
[[ $build = /* ]] || build="$repo/$build"
loom="$build/src/loom"
[[ -x $loom ]] || die "$loom not found: build it first (make build)"

corpus=""
for candidate in "${LOOM_DATA:-}" "$repo/../shared/data/tinyshakespeare.txt" "$repo/data/tinyshakespeare.txt"; do
  if [[ -n $candidate && -f $candidate ]]; then
    corpus=$candidate
    break
  fi
done
[[ -n $corpus ]] || die "no corpus: set LOOM_DATA or put tinyshakespeare.txt in ../shared/data/ or data/"

load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  note "load average $load: other processes compete for the cores, so both sides will run slow and noisy"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The same thread count for both sides: OpenMP reads it for LibTorch in Loom
# and for PyTorch, and Loom gets it as run.threads too.
export OMP_NUM_THREADS=$threads

# The shared small/full settings, as nanoGPT flags. The small ones are nanoGPT's
# README recipe for CPUs; both turn off torch.compile, which Debian's torch lacks.
nanogpt_small=(--device=cpu --compile=False --eval_iters=20 --log_interval=1 --block_size=64
  --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters="$small_iters"
  --lr_decay_iters="$small_iters" --dropout=0.0)
# max_iters N-1: nanoGPT runs iterations 0..max_iters, so this is N steps, as
# Loom's. Its only evaluation is the one it always does at iteration 0.
nanogpt_full=(--device=cpu --compile=False --max_iters="$((full_iters - 1))" --eval_interval=1000000
  --eval_iters=1 --log_interval=1)

# The per-config Loom overrides, besides store, run directory, threads and
# log interval. Text samples at each evaluation are left out: nanoGPT writes
# none. The full config evaluates only at the end (eval.interval 0), on one
# batch per split, as short as nanoGPT's evaluation at iteration 0.
# nanoGPT's learning rate (the shipped config takes twice it), so that both
# sides train the same recipe and their losses can be compared.
loom_small=(--set train.max_iters="$small_iters" --set optim.lr_decay_iters="$small_iters"
  --set optim.lr=1e-3 --set optim.min_lr=1e-4 --set eval.samples=0)
loom_full=(--set train.max_iters="$full_iters" --set eval.interval=0 --set eval.iters=1
  --set eval.samples=0)

now() { echo "$EPOCHREALTIME"; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Median of the numbers on stdin, one per line; "-" when there are none.
median() {
  sort -g | awk 'NF { v[++n] = $1 }
    END {
      if (n == 0) { print "-"; exit }
      printf "%.1f\n", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}
count_lines() { awk 'NF { n++ } END { print n + 0 }'; }

# nanoGPT's log -> "median_ms steps last_val_loss". An iteration's time runs
# from the end of the one before, so the iteration that follows a "step k:"
# evaluation line includes the evaluation (and any checkpoint): left out, as is
# iteration 0. The val loss is the last one after some training (k > 0).
nanogpt_figures() {
  local log=$1 times val
  times=$(awk '
    /^step [0-9]+: train loss/ { after_eval = 1; next }
    /^iter [0-9]+: loss .*, time / {
      for (i = 1; i <= NF; i++) if ($i == "time") { t = $(i + 1); sub(/ms,?$/, "", t) }
      if ($2 + 0 > 0 && !after_eval) print t
      after_eval = 0
    }' "$log")
  val=$(awk '/^step [0-9]+: train loss/ && $2 + 0 > 0 { v = $NF } END { print (v == "" ? "-" : v) }' "$log")
  echo "$(median <<<"$times") $(count_lines <<<"$times") $val"
}

# Loom's metrics.jsonl -> "median_ms steps last_val_loss": training records
# carry step_ms (step 1, which warms up allocators and threads, is left out);
# evaluation records carry val_loss.
loom_figures() {
  "$python" - "$1" <<'EOF'
import json, statistics, sys
step_ms, val = [], "-"
with open(sys.argv[1]) as records:
    for line in records:
        record = json.loads(line)
        if "step_ms" in record and record["step"] > 1:
            step_ms.append(record["step_ms"])
        if "val_loss" in record:
            val = f"{record['val_loss']:.4f}"
print(f"{statistics.median(step_ms):.1f}" if step_ms else "-", len(step_ms), val)
EOF
}

# The model and batch that a side trains, in one comparable form:
# "layers L, heads H, width W, block B, batch N, dropout D".
nanogpt_shape() { # flags...
  (cd "$work/nanogpt" && "$python" - "$@" <<'EOF'
import ast, sys
settings = {"gradient_accumulation_steps": 1}
exec(open("config/train_shakespeare_char.py").read(), {}, settings)
for flag in sys.argv[1:]:
    key, _, value = flag[2:].partition("=")
    try:
        settings[key] = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        settings[key] = value
s = settings
print(f"layers {s['n_layer']}, heads {s['n_head']}, width {s['n_embd']}, block {s['block_size']},"
      f" batch {s['batch_size'] * s['gradient_accumulation_steps']}, dropout {s['dropout']:g}")
EOF
  )
}
# A Loom config as resolved by `loom config show`, one "section.key value" per line.
loom_resolved() { # config, overrides...
  (cd "$repo" && "$loom" config show "$@") | awk '
    /^[a-z_]+:$/ { section = substr($1, 1, length($1) - 1) }
    /^  [a-z_]+:/ { print section "." substr($1, 1, length($1) - 1), $2 }'
}
loom_shape() { # resolved settings
  awk '{ value[$1] = $2 }
    END {
      printf "layers %s, heads %s, width %s, block %s, batch %s, dropout %g\n", value["model.n_layer"],
        value["model.n_head"], value["model.n_embd"], value["model.block_size"], value["train.batch_size"],
        value["model.dropout"]
    }' <<<"$1"
}
declare -A shape
shape=([nanogpt_small]="-" [nanogpt_full]="-" [loom_small]="-" [loom_full]="-")

# One side's result per config, "median_ms steps wall_s val_loss", "-" where missing.
declare -A result
result=([nanogpt_small]="- - - -" [nanogpt_full]="- - - -" [loom_small]="- - - -" [loom_full]="- - - -")

# --- nanoGPT ------------------------------------------------------------------
run_nanogpt() { # name, flags...
  local name=$1 log="$work/nanogpt-$1.log" start wall median steps val
  shift
  note "nanoGPT $name: train.py config/train_shakespeare_char.py $*"
  start=$(now)
  if ! (cd "$work/nanogpt" && "$python" train.py config/train_shakespeare_char.py "$@" \
    --out_dir="$work/nanogpt/out-$name" --always_save_checkpoint=False --wandb_log=False) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "nanoGPT's train.py failed ($name config); its output is above"
  fi
  wall=$(seconds_since "$start")
  read -r median steps val < <(nanogpt_figures "$log")
  result[nanogpt_$name]="$median $steps $wall $val"
}

if [[ -n ${NANOGPT_REPO:-} ]]; then
  mkdir -p "$work/nanogpt/data/shakespeare_char"
  nanogpt_files=(train.py model.py configurator.py config/train_shakespeare_char.py)
  if [[ -f $NANOGPT_REPO/train.py ]]; then
    (cd "$NANOGPT_REPO" && cp --parents "${nanogpt_files[@]}" "$work/nanogpt/")
  elif git -C "$NANOGPT_REPO" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$NANOGPT_REPO" archive HEAD "${nanogpt_files[@]}" | tar -x -C "$work/nanogpt"
  else
    die "NANOGPT_REPO=$NANOGPT_REPO is neither a nanoGPT working tree nor a git repository"
  fi
  "$python" -c 'import numpy, torch' 2>/dev/null ||
    die "nanoGPT needs Debian's python3-torch and python3-numpy for $python"
  torch_threads=$("$python" -c 'import torch; print(torch.get_num_threads())')
  [[ $torch_threads = "$threads" ]] ||
    die "PyTorch uses $torch_threads threads with OMP_NUM_THREADS=$threads, expected $threads"
  "$python" "$repo/bench/nanogpt_char_data.py" "$corpus" "$work/nanogpt/data/shakespeare_char" >&2
  # train.py reads data/<dataset>/, configurator.py and the config relative to its cwd.
  shape[nanogpt_small]=$(nanogpt_shape "${nanogpt_small[@]}")
  shape[nanogpt_full]=$(nanogpt_shape "${nanogpt_full[@]}")
  run_nanogpt small "${nanogpt_small[@]}"
  run_nanogpt full "${nanogpt_full[@]}"
else
  note "NANOGPT_REPO is not set: nanoGPT's figures are the reference ones, not measured in this run"
  # Measured earlier on the 2-core development VM (see bench/README.md).
  result[nanogpt_small]="40.0 - 87.7 1.8857"
  result[nanogpt_full]="10000 - - -"
  shape[nanogpt_small]="layers 4, heads 4, width 128, block 64, batch 12, dropout 0"
  shape[nanogpt_full]="layers 6, heads 6, width 384, block 256, batch 64, dropout 0.2"
fi

# --- Loom ---------------------------------------------------------------------
run_loom() { # name, config, overrides...
  local name=$1 config=$2 log="$work/loom-$1.log" settings start wall median steps val
  shift 2
  if [[ ! -f $repo/$config ]]; then
    note "Loom $name: $config does not exist yet; no Loom figures for this config"
    return
  fi
  if ! settings=$(loom_resolved "$config" "$@"); then
    note "Loom $name: \`loom config show $config\` rejected the overrides $*; no Loom figures"
    return
  fi
  shape[loom_$name]=$(loom_shape "$settings")
  if ! grep -q '^  train ' <<<"$("$loom" --help)"; then
    note "Loom $name: this build has no \`loom train\` (the trainer is not in it yet); no Loom figures"
    return
  fi
  note "Loom $name: loom train $config $*"
  start=$(now)
  if ! (cd "$repo" && "$loom" train "$config" --set data.store="$work/shakespeare_char.h5" \
    --set run.out_dir="$work/runs" --set run.name="$name" --set run.threads="$threads" \
    --set train.log_interval=1 "$@") >"$log" 2>&1; then
    note "Loom $name: \`loom train\` failed; its last lines:"
    tail -n 10 "$log" | sed 's/^/    /' >&2
    return
  fi
  wall=$(seconds_since "$start")
  if [[ ! -s $work/runs/$name/metrics.jsonl ]]; then
    note "Loom $name: \`loom train\` wrote no $work/runs/$name/metrics.jsonl; no Loom figures"
    return
  fi
  read -r median steps val < <(loom_figures "$work/runs/$name/metrics.jsonl")
  result[loom_$name]="$median $steps $wall $val"
}

note "Loom: prepare $corpus"
"$loom" prepare "$repo/configs/shakespeare_char.yaml" --input "$corpus" --out "$work/shakespeare_char.h5" \
  --force --progress none >"$work/prepare.log" 2>&1 || {
  cat "$work/prepare.log" >&2
  die "loom prepare failed"
}
run_loom small configs/shakespeare_char_cpu.yaml "${loom_small[@]}"
# The first steps of the full config follow its whole run's learning-rate
# schedule (warmup, then decay to the config's decay end), as nanoGPT's do.
if full_settings=$(loom_resolved configs/shakespeare_char.yaml 2>/dev/null); then
  decay_end=$(awk '$1 == "optim.lr_decay_iters" { d = $2 } $1 == "train.max_iters" { m = $2 }
    END { print (d > 0 ? d : m) }' <<<"$full_settings")
  loom_full+=(--set optim.lr_decay_iters="$decay_end")
fi
run_loom full configs/shakespeare_char.yaml "${loom_full[@]}"

# --- Table --------------------------------------------------------------------
speedup() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $threads threads; corpus $corpus; $(date -u +%F)"
echo
if [[ -n ${NANOGPT_REPO:-} ]]; then
  nanogpt_header="nanoGPT ms/iter"
else
  nanogpt_header="nanoGPT ms/iter: reference (not measured in this run)"
fi
echo "| config | $nanogpt_header | Loom ms/iter | speed-up (nanoGPT/Loom) | total wall s (nanoGPT / Loom) | final val loss (nanoGPT / Loom) |"
echo "|---|---|---|---|---|---|"
for name in small full; do
  read -r n_ms _ n_wall n_val <<<"${result[nanogpt_$name]}"
  read -r l_ms _ l_wall l_val <<<"${result[loom_$name]}"
  if [[ $name = small ]]; then label="shakespeare_char_cpu, $small_iters steps"; else label="shakespeare_char, first $full_iters steps"; fi
  echo "| $label | $n_ms | $l_ms | $(speedup "$n_ms" "$l_ms") | $n_wall / $l_wall | $n_val / $l_val |"
done
echo
steps_in() { read -r _ steps _ <<<"${result[$1]}" && echo "$steps"; }
echo "ms/iter: the median over the steps after the first that include no evaluation; steps counted:" \
  "nanoGPT $(steps_in nanogpt_small) small, $(steps_in nanogpt_full) full;" \
  "Loom $(steps_in loom_small) small, $(steps_in loom_full) full"
for name in small full; do
  echo "$name: nanoGPT ${shape[nanogpt_$name]}; Loom ${shape[loom_$name]}"
  if [[ ${shape[nanogpt_$name]} != "${shape[loom_$name]}" && ${shape[loom_$name]} != - ]]; then
    echo "  WARNING: the $name configs differ, so its ms/iter figures do not compare like for like"
  fi
done
echo "target: Loom at least 1.3x faster per step on both configs"
