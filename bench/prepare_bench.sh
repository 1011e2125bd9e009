#!/usr/bin/env bash
# `loom prepare` throughput and peak memory on generated TinyStories-shaped
# corpora, with the char tokenizer, on 1 and 2 threads, at several sizes:
# throughput should hold and peak RSS stay flat as the corpus grows.
#
#   bench/prepare_bench.sh [--baseline LOOM] [BUILD_DIR] [SIZE...]
#                                                       default: build 500MB 1GB 2GB
#
# Baselines measured in the same run:
#   - with --baseline, another `loom` binary (an older build, say) timed the
#     same way right after this build's, on the same corpora;
#   - `cat corpus > /dev/null`: the read speed of the disk / page cache;
#   - nanoGPT's data/shakespeare_char/prepare.py (reads the whole file, lists
#     of Python ints) on the smallest corpus capped at NANOGPT_MB (default 100)
#     MB, when NANOGPT_REPO points at a nanoGPT git checkout (bare or not) and
#     python3-numpy and python3-requests are installed.
# Corpora and stores go to $LOOM_BENCH_DIR (default /tmp/loom-bench).
set -euo pipefail

baseline=
if [[ ${1:-} = --baseline ]]; then
  baseline=${2:?--baseline needs the path of a loom binary}
  [[ -x $baseline ]] || { echo "bench: $baseline is not an executable" >&2; exit 1; }
  shift 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
shift || true
[[ $build = /* ]] || build="$repo/$build"
sizes=("$@")
((${#sizes[@]})) || sizes=(500MB 1GB 2GB)
work=${LOOM_BENCH_DIR:-/tmp/loom-bench}
mkdir -p "$work"
loom="$build/src/loom"
synth="$build/data_tools/loom-synth"
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

# Runs a command under /usr/bin/time; prints "seconds peak_rss_mb cpu_seconds"
# (user + system: unlike the elapsed time, it hardly moves when other work
# shares the machine).
measure() {
  /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || {
    cat "$work/err.txt" >&2
    return 1
  }
  awk '{ printf "%s %.0f %.2f\n", $1, $2 / 1024, $3 + $4 }' "$work/time.txt"
}

# Prints one row: corpus size, label, then the timing of the command after them.
time_prepare() {
  local size=$1 label=$2 secs rss cpu
  shift 2
  read -r secs rss cpu < <(measure "$@")
  printf '%-8s %-34s %10s %10.0f %12s %8s\n' "$size" "$label" "$secs" "$(awk -v m="$mb" -v s="$secs" 'BEGIN { print m / s }')" "$rss" "$cpu"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -z $baseline ]] || echo "baseline: $baseline"
printf '%-8s %-34s %10s %10s %12s %8s\n' corpus run seconds "MB/s" "peak RSS MB" "CPU s"
for size in "${sizes[@]}"; do
  corpus="$work/stories-$size.txt"
  [[ -f $corpus ]] || "$synth" stories --size "$size" --out "$corpus"
  mb=$(awk -v b="$(stat -c %s "$corpus")" 'BEGIN { printf "%.1f", b / 1048576 }')
  read -r secs rss cpu < <(measure cat "$corpus")
  printf '%-8s %-34s %10s %10.0f %12s %8s\n' "$size" "cat > /dev/null" "$secs" "$(awk -v m="$mb" -v s="$secs" 'BEGIN { print m / (s > 0 ? s : 0.01) }')" "$rss" "$cpu"
  for threads in 1 2; do
    time_prepare "$size" "loom prepare, $threads thread(s)" "$loom" prepare --input "$corpus" \
      --out "$work/stories.h5" --tokenizer char --threads "$threads" --force --progress none
    [[ -z $baseline ]] || time_prepare "$size" "baseline prepare, $threads thread(s)" "$baseline" \
      prepare --input "$corpus" --out "$work/stories.h5" --tokenizer char --threads "$threads" \
      --force --progress none
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -n ${NANOGPT_REPO:-} ]] && "${PYTHON:-/usr/bin/python3}" -c 'import numpy, requests' 2>/dev/null; then
  cap_mb=${NANOGPT_MB:-100}
  peer="$work/nanogpt"
  mkdir -p "$peer"
  git -C "$NANOGPT_REPO" show HEAD:data/shakespeare_char/prepare.py >"$peer/prepare.py"
  head -c "$((cap_mb * 1048576))" "$work/stories-${sizes[0]}.txt" >"$peer/input.txt"
  read -r secs rss cpu < <(measure "${PYTHON:-/usr/bin/python3}" "$peer/prepare.py")
  printf '%-8s %-34s %10s %10.0f %12s %8s\n' "${cap_mb}MB" "nanoGPT prepare.py" "$secs" "$(awk -v m="$cap_mb" -v s="$secs" 'BEGIN { print m / s }')" "$rss" "$cpu"
  mb=$cap_mb
  time_prepare "${cap_mb}MB" "loom prepare, 1 thread(s)" "$loom" prepare --input "$peer/input.txt" \
    --out "$peer/loom.h5" --tokenizer char --threads 1 --force --progress none
else
  echo "(nanoGPT baseline skipped: set NANOGPT_REPO and install python3-numpy python3-requests)"
fi
