#!/usr/bin/env bash
# The main job on Tiny Shakespeare, run by `make demo` after the build.
#
# Finds the corpus in $LOOM_DATA (the file, or a folder holding
# tinyshakespeare.txt), then ../shared/data/tinyshakespeare.txt beside the
# checkout, then data/tinyshakespeare.txt from an earlier download, and only
# then downloads it from its public URL.
#
# Then: prepare the token store, train configs/shakespeare_char_cpu.yaml (a
# couple of minutes on two cores) into runs/shakespeare_char_cpu, evaluate
# it, and print samples. Run again, it finds the finished run and only
# samples (delete runs/shakespeare_char_cpu to train afresh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build}
[[ $build_dir = /* ]] || build_dir="$repo/$build_dir"
loom="$build_dir/src/loom"
config="$repo/configs/shakespeare_char_cpu.yaml"
url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"

find_corpus() {
  local status=0
  "$repo/scripts/find-corpus.sh" || status=$?
  ((status == 1)) || exit "$status"  # found (0), or a LOOM_DATA mistake (2)
  mkdir -p "$repo/data"
  echo "demo: Tiny Shakespeare not found locally; downloading $url" >&2
  if curl -fsSL --retry 2 --max-time 60 -o "$repo/data/tinyshakespeare.txt.part" "$url"; then
    mv "$repo/data/tinyshakespeare.txt.part" "$repo/data/tinyshakespeare.txt"
    echo "$repo/data/tinyshakespeare.txt"
    return
  fi
  rm -f "$repo/data/tinyshakespeare.txt.part"
  cat >&2 <<MSG
demo: could not find or download Tiny Shakespeare.
  Looked in: \$LOOM_DATA (unset), $repo/../shared/data/, $repo/data/
  Download from $url failed.
  Fix: download it by hand and run  LOOM_DATA=/path/to/tinyshakespeare.txt make demo
MSG
  exit 1
}

corpus=$(find_corpus)
store="$repo/data/shakespeare_char.h5"
echo "== corpus: $corpus ($(wc -c <"$corpus") bytes)"
echo
echo "== loom --version"
"$loom" --version
echo "== loom prepare configs/shakespeare_char_cpu.yaml --input $corpus"
# Paths in the config are relative to the checkout: the store lands in
# data/, the run in runs/.
cd "$repo"
"$loom" prepare "$config" --input "$corpus" --force
echo
echo "== loom inspect data/shakespeare_char.h5"
"$loom" inspect "$store" --tokens 120
echo
echo "== loom train configs/shakespeare_char_cpu.yaml"
"$loom" train "$config"
echo
echo "== loom eval runs/shakespeare_char_cpu --split val"
"$loom" eval runs/shakespeare_char_cpu --split val
echo
echo "== loom sample runs/shakespeare_char_cpu --prompt 'ROMEO:' --tokens 300 -n 2"
"$loom" sample runs/shakespeare_char_cpu --prompt "ROMEO:" --tokens 300 --temperature 0.8 --top-k 40 -n 2
echo
echo "== the run's record: runs/shakespeare_char_cpu/ (metrics.jsonl, loss.svg, samples/, checkpoints/)"
echo "== try it in a browser: $loom serve runs/shakespeare_char_cpu, then open http://127.0.0.1:8000/"
