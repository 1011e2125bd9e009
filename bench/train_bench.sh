#!/usr/bin/env bash
# Training speed: milliseconds per optimizer step of `loom train` against
# nanoGPT's train.py at its best, on the same machine, in the same run, with
# the same thread count, for two configs:
#   - small: configs/shakespeare_char_cpu.yaml against nanoGPT's README CPU
#     recipe (4 layers, 4 heads, 128 wide, block 64, batch 12, no dropout,
#     eval every 250 steps over 20 batches), whole runs of --small-iters steps:
#     Loom twice, on nanoGPT's recipe (its learning rate) for the step times
#     and as the config ships (its own learning rate) for the time to 1.89;
#   - full: the first --full-iters steps of configs/shakespeare_char.yaml
#     against nanoGPT's config/train_shakespeare_char.py (6 layers, 384 wide,
#     block 256, batch 64), each evaluating once on one batch per split
#     (nanoGPT before its first step, Loom after its last).
# nanoGPT runs as each of the peers that --peers names (default: all of them):
#   torch1               Debian's python3-torch 1.13 under /usr/bin/python3, fp32
#   torch2               torch 2.11 (bench/setup_nanogpt_torch2.sh), fp32, eager
#   torch2-compile       the same with torch.compile (--compile=True)
#   torch2-bf16          torch 2.11, bf16 autocast, eager
#   torch2-bf16-compile  the same with torch.compile
# On CPUs train.py ignores --dtype (it autocasts on GPUs only), so the bf16
# peers run a copy of it that autocasts on CPUs too, a one-line change.
# Debian's torch 1.13 and Loom load the same OpenBLAS: unless OPENBLAS_CORETYPE
# is set, nanoGPT gets the core that Loom's OpenBLAS ends up with; the core (or
# BLAS) of each side is printed.
# Loom writes no text samples at evaluations (nanoGPT writes none). Both sides
# print the model and batch they train; a mismatch is flagged.
# Per step: the median (step 1 / iteration 0 and the iterations that include
# an evaluation are left out); per run: the wall time of the training command,
# the time from its start to the first evaluation whose val loss is at most
# 1.89 (small config), and the last validation loss.
#
#   NANOGPT_REPO=/path/to/nanoGPT bench/train_bench.sh [BUILD_DIR] [--small-iters N] [--full-iters N]
#       [--threads T] [--peers P,...]
#
# Defaults: build, 2000 small steps, 10 full steps, 2 threads, all peers.
# Loom's small config warms up for 100 steps and takes more small steps only.
# NANOGPT_REPO is a nanoGPT checkout (a working tree, or any git repository,
# bare included, whose HEAD is used); torch1 needs Debian's python3-torch and
# python3-numpy, the torch2 peers the environment that
# bench/setup_nanogpt_torch2.sh makes. Without NANOGPT_REPO the nanoGPT rows
# hold reference figures (torch1) measured earlier on the 2-core development VM.
# Corpus: $LOOM_DATA, else ../shared/data/tinyshakespeare.txt beside the repo,
# else data/tinyshakespeare.txt. Everything else goes to a temporary directory
# that is removed on exit (torch.compile's cache included: every compiled run
# compiles from scratch, and its wall times include that).
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
all_peers=(torch1 torch2 torch2-compile torch2-bf16 torch2-bf16-compile)
peers=("${all_peers[@]}")
peers_given=false
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
    --peers)
      (($# >= 2)) || die "--peers needs a value"
      IFS=, read -r -a peers <<<"$2"
      ((${#peers[@]})) || die "--peers: expected a comma-separated list of ${all_peers[*]}"
      for peer in "${peers[@]}"; do
        [[ " ${all_peers[*]} " = *" $peer "* ]] || die "--peers: unknown peer '$peer' (expected some of ${all_peers[*]})"
      done
      peers_given=true
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option '$1' (expected --small-iters, --full-iters, --threads, --peers)" ;;
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

if [[ -z ${NANOGPT_REPO:-} ]] && $peers_given; then
  die "--peers: the peers are nanoGPT runs, which need NANOGPT_REPO (a nanoGPT checkout)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The same thread count for both sides: OpenMP reads it for LibTorch in Loom
# and for PyTorch, and Loom gets it as run.threads too.
export OMP_NUM_THREADS=$threads

# The validation loss whose first reach is timed (small config): nanoGPT's
# README recipe ends near it.
target_val=1.89

# The shared small/full settings, as nanoGPT flags; each peer adds its
# --compile and --dtype. The small ones are nanoGPT's README recipe for CPUs.
nanogpt_small=(--device=cpu --eval_iters=20 --log_interval=1 --block_size=64
  --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters="$small_iters"
  --lr_decay_iters="$small_iters" --dropout=0.0)
# max_iters N-1: nanoGPT runs iterations 0..max_iters, so this is N steps, as
# Loom's. Its only evaluation is the one it always does at iteration 0.
nanogpt_full=(--device=cpu --max_iters="$((full_iters - 1))" --eval_interval=1000000
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

# Runs a training command with its output (stdout and stderr) going to LOG,
# each line behind the time it arrived (seconds since the epoch), so that the
# time of an evaluation can be read off afterwards. Both trainers flush every
# line (nanoGPT runs with PYTHONUNBUFFERED). Exit status: the command's.
run_logged() { # log, command...
  local log=$1 line
  shift
  "$@" 2>&1 | while IFS= read -r line || [[ -n $line ]]; do
    printf '%s %s\n' "$EPOCHREALTIME" "$line"
  done >"$log"
}
unstamped() { cut -d' ' -f2- "$1"; }
# Seconds from START to the first evaluation in a run_logged LOG whose val
# loss is at most $target_val; "not reached" when there is none. Both
# trainers print an evaluation as "step N: train loss X, val loss Y...".
time_to_target() { # log, start
  awk -v start="$2" -v target="$target_val" '
    match($0, /step [0-9]+: train loss [0-9.]+, val loss [0-9.]+/) {
      n = split(substr($0, RSTART, RLENGTH), word, " ")
      if (word[n] + 0 <= target) { printf "%.1f\n", $1 - start; found = 1; exit }
    }
    END { if (!found) print "not reached" }' "$1"
}

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
# iteration 0 (which also includes torch.compile's compiling). The val loss is
# the last one after some training (k > 0).
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

# --- BLAS ---------------------------------------------------------------------
# The OpenBLAS core that Loom ends up with: its `loom --version` BLAS line
# ("  BLAS      OpenBLAS 0.3.21 (DYNAMIC_ARCH, OpenMP), Cooperlake kernels"),
# else the core that OpenBLAS itself prints as "Core: <name>" when it loads
# with OPENBLAS_VERBOSE=2 (the last such line: Loom may set
# OPENBLAS_CORETYPE and load it again). Empty when neither.
loom_blas_core() {
  OPENBLAS_VERBOSE=2 "$loom" --version 2>&1 | awk '
    /^  BLAS +OpenBLAS/ && $NF == "kernels" { reported = $(NF - 1) }
    /^Core: / { loaded = $2 }
    END { print (reported != "" ? reported : loaded) }'
}
# The BLAS that a Python's torch uses, in the environment nanoGPT runs in:
# "OpenBLAS core <name>" (as above), else torch's BLAS_INFO ("mkl" for
# PyPI's wheels, whose MKL ignores OPENBLAS_CORETYPE). Also checks that torch
# takes the thread count. Prints "torch <version>; <BLAS>".
torch_blas() { # command that runs python...
  local out version torch_threads info core
  out=$(OPENBLAS_VERBOSE=2 "$@" -c 'import re, torch
info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
print("torch", torch.__version__, torch.get_num_threads(), info.group(1) if info else "unknown")' 2>&1) ||
    die "${*: -1} cannot import torch: $(tail -n 1 <<<"$out")"
  read -r _ version torch_threads info < <(grep '^torch ' <<<"$out" | tail -n 1)
  [[ $torch_threads = "$threads" ]] ||
    die "${*: -1}: PyTorch uses $torch_threads threads with OMP_NUM_THREADS=$threads, expected $threads"
  core=$(awk '/^Core: / { c = $2 } END { print c }' <<<"$out")
  if [[ $info != mkl && -n $core ]]; then
    echo "torch $version; OpenBLAS core $core"
  else
    echo "torch $version; BLAS $info"
  fi
}

declare -A blas # side -> the BLAS it uses, for the report
loom_core=$(loom_blas_core)
if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then
  blas[loom]="OpenBLAS core ${loom_core:-unknown} (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, set by the user, for both sides)"
elif [[ -n $loom_core ]]; then
  blas[loom]="OpenBLAS core $loom_core"
else
  blas[loom]="no OpenBLAS core reported by \`OPENBLAS_VERBOSE=2 loom --version\`"
fi

# --- nanoGPT ------------------------------------------------------------------
# Peers: torch1* run under Debian's python, torch2* under the environment of
# bench/setup_nanogpt_torch2.sh; *-compile turn torch.compile on; *-bf16*
# autocast to bf16, running train_autocast.py (see below).
peer_python() { if [[ $1 = torch1* ]]; then echo "$python"; else echo "$torch2_python"; fi; }
peer_script() { if [[ $1 = *-bf16* ]]; then echo train_autocast.py; else echo train.py; fi; }
peer_flags() {
  local compile=False dtype=float32
  [[ $1 != *-compile ]] || compile=True
  [[ $1 != *-bf16* ]] || dtype=bfloat16
  echo "--compile=$compile" "--dtype=$dtype"
}

# One result per side and config: side is loom or a peer; figures
# "median_ms steps wall_s val_loss" ("-" where missing) and the time to
# $target_val ("-" where not measured).
declare -A result reached shape
sides=(loom)

run_nanogpt() { # peer, config name, flags...
  local peer=$1 name=$2 log="$work/nanogpt-$1-$2.log" script start wall median steps val
  local -a flags
  shift 2
  script=$(peer_script "$peer")
  read -r -a flags < <(peer_flags "$peer")
  note "nanoGPT $peer $name: $script config/train_shakespeare_char.py ${flags[*]} $*"
  start=$(now)
  # A fresh torch.compile cache for every run: each compiles from scratch.
  if ! (cd "$work/nanogpt" && run_logged "$log" env "${nanogpt_env[@]}" \
    TORCHINDUCTOR_CACHE_DIR="$work/inductor-$peer-$name" "$(peer_python "$peer")" "$script" \
    config/train_shakespeare_char.py "${flags[@]}" "$@" --out_dir="$work/nanogpt/out-$peer-$name" \
    --always_save_checkpoint=False --wandb_log=False); then
    unstamped "$log" | tail -n 20 >&2
    die "nanoGPT's $script failed ($peer, $name config); its output is above"
  fi
  wall=$(seconds_since "$start")
  unstamped "$log" >"$log.text"
  read -r median steps val < <(nanogpt_figures "$log.text")
  result[$peer:$name]="$median $steps $wall $val"
  reached[$peer:$name]=$(time_to_target "$log" "$start")
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
  # train.py autocasts on GPUs only ("ctx = nullcontext() if device_type ==
  # 'cpu' else torch.amp.autocast(...)"); the bf16 peers run a copy that
  # autocasts on CPUs too.
  autocast='ctx = torch.amp.autocast(device_type=device_type, dtype=ptdtype)'
  sed "s/^ctx = nullcontext() if device_type == 'cpu' else \(torch\.amp\.autocast(.*)\)\$/ctx = \1/" \
    "$work/nanogpt/train.py" >"$work/nanogpt/train_autocast.py"
  if [[ " ${peers[*]} " = *-bf16* ]] && ! grep -qxF "$autocast" "$work/nanogpt/train_autocast.py"; then
    die "nanoGPT's train.py has no line \"ctx = nullcontext() if device_type == 'cpu' else $autocast\"" \
      "for the bf16 peers to autocast on CPUs; leave them out of --peers"
  fi
  # nanoGPT's environment: every line printed at once (for the evaluations'
  # times) and, unless the user chose a core, Loom's OpenBLAS core (torch1
  # loads the same OpenBLAS as Loom; MKL, in the torch2 peers, ignores it).
  nanogpt_env=(PYTHONUNBUFFERED=1)
  if [[ -z ${OPENBLAS_CORETYPE:-} && -n $loom_core ]]; then
    nanogpt_env+=(OPENBLAS_CORETYPE="$loom_core")
  fi
  torch2_python=""
  if [[ " ${peers[*]} " = *" torch2"* ]]; then
    torch2_python=$("$repo/bench/setup_nanogpt_torch2.sh" --python 2>/dev/null) ||
      die "the torch2 peers need bench/setup_nanogpt_torch2.sh run first (or leave them out: --peers torch1)"
  fi
  for peer in "${peers[@]}"; do
    [[ $peer != torch1* ]] || "$python" -c 'import numpy, torch' 2>/dev/null ||
      die "nanoGPT's torch1 peer needs Debian's python3-torch and python3-numpy for $python"
    blas[$peer]=$(torch_blas env "${nanogpt_env[@]}" "$(peer_python "$peer")")
    if [[ -z ${OPENBLAS_CORETYPE:-} && -n $loom_core && ${blas[$peer]} = *OpenBLAS* ]]; then
      blas[$peer]+=" (OPENBLAS_CORETYPE=$loom_core, Loom's core, set by the bench)"
    fi
    sides+=("$peer")
  done
  "$python" "$repo/bench/nanogpt_char_data.py" "$corpus" "$work/nanogpt/data/shakespeare_char" >&2
  # train.py reads data/<dataset>/, configurator.py and the config relative to its cwd.
  shape[nanogpt:small]=$(nanogpt_shape "${nanogpt_small[@]}")
  shape[nanogpt:full]=$(nanogpt_shape "${nanogpt_full[@]}")
  for peer in "${peers[@]}"; do
    run_nanogpt "$peer" small "${nanogpt_small[@]}"
    run_nanogpt "$peer" full "${nanogpt_full[@]}"
  done
else
  note "NANOGPT_REPO is not set: nanoGPT's figures are the reference ones, not measured in this run"
  # Measured earlier on the 2-core development VM (see bench/README.md).
  sides+=(reference)
  result[reference:small]="40.0 - 87.7 1.8857"
  result[reference:full]="10000 - - -"
  blas[reference]="torch 1.13 (Debian); not measured in this run"
  shape[nanogpt:small]="layers 4, heads 4, width 128, block 64, batch 12, dropout 0"
  shape[nanogpt:full]="layers 6, heads 6, width 384, block 256, batch 64, dropout 0.2"
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
  shape[loom:$name]=$(loom_shape "$settings")
  if ! grep -q '^  train ' <<<"$("$loom" --help)"; then
    note "Loom $name: this build has no \`loom train\` (the trainer is not in it yet); no Loom figures"
    return
  fi
  note "Loom $name: loom train $config $*"
  start=$(now)
  if ! (cd "$repo" && run_logged "$log" "$loom" train "$config" --set data.store="$work/shakespeare_char.h5" \
    --set run.out_dir="$work/runs" --set run.name="$name" --set run.threads="$threads" \
    --set train.log_interval=1 "$@"); then
    note "Loom $name: \`loom train\` failed; its last lines:"
    unstamped "$log" | tail -n 10 | sed 's/^/    /' >&2
    return
  fi
  wall=$(seconds_since "$start")
  if [[ ! -s $work/runs/$name/metrics.jsonl ]]; then
    note "Loom $name: \`loom train\` wrote no $work/runs/$name/metrics.jsonl; no Loom figures"
    return
  fi
  read -r median steps val < <(loom_figures "$work/runs/$name/metrics.jsonl")
  result[loom:$name]="$median $steps $wall $val"
  reached[loom:$name]=$(time_to_target "$log" "$start")
}

note "Loom: prepare $corpus"
"$loom" prepare "$repo/configs/shakespeare_char.yaml" --input "$corpus" --out "$work/shakespeare_char.h5" \
  --force --progress none >"$work/prepare.log" 2>&1 || {
  cat "$work/prepare.log" >&2
  die "loom prepare failed"
}
run_loom small configs/shakespeare_char_cpu.yaml "${loom_small[@]}"
# The config as a user runs it (its own learning rate, train.precision auto):
# what the wall time to the target val loss is measured on.
run_loom shipped configs/shakespeare_char_cpu.yaml --set train.max_iters="$small_iters" \
  --set eval.samples=0
# The first steps of the full config follow its whole run's learning-rate
# schedule (warmup, then decay to the config's decay end), as nanoGPT's do.
if full_settings=$(loom_resolved configs/shakespeare_char.yaml 2>/dev/null); then
  decay_end=$(awk '$1 == "optim.lr_decay_iters" { d = $2 } $1 == "train.max_iters" { m = $2 }
    END { print (d > 0 ? d : m) }' <<<"$full_settings")
  loom_full+=(--set optim.lr_decay_iters="$decay_end")
fi
run_loom full configs/shakespeare_char.yaml "${loom_full[@]}"

# --- Table --------------------------------------------------------------------
seconds() { if [[ $1 =~ ^[0-9.]+$ ]]; then echo "$1 s"; else echo "$1"; fi; }
speedup() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
side_label() {
  case $1 in
    loom) echo "Loom" ;;
    reference) echo "nanoGPT torch1: reference (not measured in this run)" ;;
    *) echo "nanoGPT $1" ;;
  esac
}

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $threads threads; corpus $corpus; $(date -u +%F)"
echo
echo "| config | side | ms/iter | Loom speed-up (side ms / Loom ms) | total wall s | wall s to val <= $target_val | final val loss |"
echo "|---|---|---|---|---|---|---|"
for name in small full; do
  if [[ $name = small ]]; then label="shakespeare_char_cpu, $small_iters steps"; else label="shakespeare_char, first $full_iters steps"; fi
  read -r loom_ms _ <<<"${result[loom:$name]:--}"
  for side in "${sides[@]}"; do
    read -r ms _ wall val <<<"${result[$side:$name]:-- - - -}"
    speed=-
    [[ $side = loom ]] || speed=$(speedup "$ms" "$loom_ms")
    echo "| $label | $(side_label "$side") | $ms | $speed | $wall | ${reached[$side:$name]:--} | $val |"
  done
  if [[ $name = small ]]; then
    read -r ms _ wall val <<<"${result[loom:shipped]:-- - - -}"
    echo "| $label | Loom, the config as shipped | $ms | - | $wall | ${reached[loom:shipped]:--} | $val |"
  fi
done
echo
echo "ms/iter: the median over the steps after the first that include no evaluation; steps counted:"
for side in "${sides[@]}"; do
  read -r _ small_steps _ <<<"${result[$side:small]:-- -}"
  read -r _ full_steps _ <<<"${result[$side:full]:-- -}"
  echo "  $(side_label "$side"): $small_steps small, $full_steps full"
done
echo "BLAS:"
for side in "${sides[@]}"; do
  echo "  $(side_label "$side"): ${blas[$side]}"
done
for name in small full; do
  echo "$name: nanoGPT ${shape[nanogpt:$name]:--}; Loom ${shape[loom:$name]:--}"
  if [[ ${shape[nanogpt:$name]:--} != "${shape[loom:$name]:--}" && ${shape[loom:$name]:--} != - ]]; then
    echo "  WARNING: the $name configs differ, so its ms/iter figures do not compare like for like"
  fi
done
# nanoGPT at its best: the peer with the fewest ms/iter, and the one first at
# the target val loss, against Loom.
for name in small full; do
  best=$(for side in "${sides[@]}"; do
    [[ $side = loom ]] || echo "$side ${result[$side:$name]:--} ${reached[$side:$name]:--}"
  done | awk '
    $2 != "-" && (ms == "" || $2 + 0 < ms + 0) { ms = $2; ms_side = $1 }
    $6 ~ /^[0-9.]+$/ && (at == "" || $6 + 0 < at + 0) { at = $6; at_side = $1 }
    END { print (ms == "" ? "- -" : ms_side " " ms), (at == "" ? "- -" : at_side " " at) }')
  read -r ms_side ms at_side at <<<"$best"
  read -r loom_ms _ <<<"${result[loom:$name]:--}"
  line="$name: nanoGPT's fewest ms/iter: $(side_label "$ms_side") $ms (Loom $(speedup "$ms" "$loom_ms") faster)"
  if [[ $name = small ]]; then
    if [[ $at_side = - ]]; then
      line+="; first to val <= $target_val: none"
    else
      line+="; first to val <= $target_val: $(side_label "$at_side") $(seconds "$at")"
    fi
    line+=" (Loom $(seconds "${reached[loom:$name]:--}"); Loom as shipped"
    line+=" $(seconds "${reached[loom:shipped]:--}"), $(speedup "$at" "${reached[loom:shipped]:--}") sooner)"
  fi
  echo "$line"
done
echo "target: Loom at least 1.3x faster per step on both configs than nanoGPT's fastest peer;"
echo "        the config as shipped at val <= $target_val at least 2x sooner than nanoGPT's first peer"
