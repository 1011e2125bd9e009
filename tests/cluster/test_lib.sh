# Shared by the cluster tests (sourced): failing and skipping the way ctest
# counts them, and a small training run to put through the scripts.
# shellcheck shell=bash

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# ctest's SKIP_RETURN_CODE for these tests.
skip() {
  echo "SKIP: $*"
  exit 77
}

# Verse-like lines from twelve words (a Park-Miller generator, exact in
# awk's doubles): a few kilobytes a model has something to learn from.
write_corpus() {
  awk 'BEGIN {
    split("the king shall speak of love and night my lord fair rome", word, " ")
    state = 42
    for (line = 0; line < 600; ++line) {
      words = 3 + line % 5
      for (w = 0; w < words; ++w) {
        state = (state * 16807) % 2147483647
        printf "%s%s", word[1 + state % 12], (w + 1 < words ? " " : (line % 4 == 3 ? ".\n\n" : ",\n"))
      }
    }
  }' >"$1"
}

# write_run_config FOLDER MAX_ITERS [TRAIN_KEYS]: FOLDER/run.yaml, a 2-layer,
# 64-wide GPT with dropout on, trained one thread per rank on
# FOLDER/corpus.txt into FOLDER/runs/run; TRAIN_KEYS adds to the train
# section ("key: value, ..."). The lr schedule ends at step 200
# (lr_decay_iters), not at max_iters, so max_iters changes only where a run
# ends.
write_run_config() {
  local folder=$1 max_iters=$2 train_keys=${3:+, $3}
  cat >"$folder/run.yaml" <<YAML
run: {name: run, out_dir: "$folder/runs", seed: 7, threads: 1}
prepare: {inputs: ["$folder/corpus.txt"], tokenizer: char, val_fraction: 0.1}
data: {store: "$folder/corpus.h5", prefetch: 1}
model: {block_size: 32, n_layer: 2, n_head: 4, n_embd: 64, dropout: 0.1}
optim: {lr: 3.0e-3, min_lr: 3.0e-4, warmup_iters: 20, lr_decay_iters: 200}
train: {max_iters: $max_iters, batch_size: 16, log_interval: 1$train_keys}
eval: {interval: 1000000, iters: 2, samples: 0}
checkpoint: {interval: 1000, keep_last: 2}
YAML
}

# "step loss" for every training record of a metrics.jsonl, as written (its
# keys come sorted; evaluation records' "train_loss" does not match).
step_losses() {
  sed -n 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\)[,}].*/\2 \1/p' "$1"
}
