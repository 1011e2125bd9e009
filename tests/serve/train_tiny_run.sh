#!/usr/bin/env bash
# Writes a small verse-like corpus and trains on it the tiny run that the
# server's load test and load bench serve: a 2-layer, 32-wide GPT, 12 steps,
# one thread, a few seconds. Its logs stay in WORK; on a failure they are
# printed and the script exits non-zero.
#
#   tests/serve/train_tiny_run.sh LOOM_BINARY WORK     the run: WORK/runs/tiny
set -euo pipefail

loom=${1:?loom binary}
work=${2:?work folder}
mkdir -p "$work"

# Lines of 3 to 7 words from a fixed list, drawn by a fixed LCG.
python3 - "$work/corpus.txt" <<'EOF'
import sys
words = "the king shall speak of love and night my lord fair rome".split()
state, lines = 42, []
for line in range(600):
    picked = []
    for _ in range(3 + line % 5):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        picked.append(words[(state >> 33) % len(words)])
    lines.append(" ".join(picked) + (".\n\n" if line % 4 == 3 else ",\n"))
open(sys.argv[1], "w").write("".join(lines))
EOF
cat >"$work/tiny.yaml" <<EOF
run: {name: tiny, out_dir: "$work/runs", seed: 7, threads: 1}
prepare: {inputs: ["$work/corpus.txt"], tokenizer: char, val_fraction: 0.1}
data: {store: "$work/tiny.h5"}
model: {block_size: 16, n_layer: 2, n_head: 2, n_embd: 32}
optim: {warmup_iters: 2, lr_decay_iters: 12}
train: {max_iters: 12, batch_size: 8, log_interval: 12}
eval: {interval: 12, iters: 2, samples: 0}
EOF
"$loom" prepare "$work/tiny.yaml" --progress none >"$work/prepare.log" 2>&1 ||
  { echo "loom prepare failed:" >&2; cat "$work/prepare.log" >&2; exit 1; }
"$loom" train "$work/tiny.yaml" >"$work/train.log" 2>&1 ||
  { echo "loom train failed:" >&2; cat "$work/train.log" >&2; exit 1; }
