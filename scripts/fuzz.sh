#!/usr/bin/env bash
# Builds Loom's libFuzzer targets (fuzz/) with clang, ASan and UBSan in
# build-fuzz/, and runs each one (or those named) for a while on a
# temporary copy of its seed corpus and past crashes. The repository's
# corpora are never modified. Fails when any target crashes, leaks, times
# out or breaks one of its checks, and says where the reproducer is and
# how to run it again.
#
#   scripts/fuzz.sh                          every target, 30 s each
#   scripts/fuzz.sh --seconds 600 config_yaml token_store
#   scripts/fuzz.sh --no-build corpus_text  run what build-fuzz/ has
#   scripts/fuzz.sh --list                  the target names
#
# Environment: BUILD_DIR (default build-fuzz), JOBS (build jobs, default
# nproc), FUZZ_ARGS (more libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
build_dir=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}
seconds=30
build=1

all_targets=(config_yaml config_set corpus_text corpus_jsonl corpus_discord_json
             corpus_discord_csv corpus_telegram token_store tokenizer_json
             checkpoint_manifest checkpoint_state generate_request)

# Longest input each target is given: a few times its largest seed, small
# enough that one input runs in milliseconds. A token store's HDF5 file is
# a few KB before it holds any token.
max_len_of() {
  case $1 in
    config_set) echo 1024 ;;
    token_store) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

# libFuzzer flags for one target. token_store runs in fork mode, where a
# crash, timeout or out-of-memory does not end the run: HDF5 1.10 itself
# crashes and hangs on some damaged files (fuzz/README.md), which Loom
# cannot prevent, and the run should go on looking for Loom's bugs. Each
# input kept is then replayed alone and judged by what it shows (classify_finding).
extra_args_of() {
  case $1 in
    token_store) echo "-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1" ;;
  esac
}

# What replaying one kept input alone shows, for the fork-mode target:
#   hdf5   it fails, and the innermost frame that is not the sanitizers',
#          libFuzzer's or libc's lies in libhdf5. The allocator's frames are
#          the sanitizers' too: a leak or an oversized allocation counts by
#          who allocated (HDF5 1.10 leaks on some of its own error paths).
#   clean  it runs without a report. libFuzzer's fork mode writes such an
#          input when a child fails outside any one input: it then names
#          the failure by the empty input's hash (crash-da39a3ee...), as
#          after a child's timeout inside HDF5. There is nothing to replay.
#   loom   any other failure: Loom's, and the run fails.
classify_finding() {
  local binary=$1 input=$2 report frame
  report=$(timeout 120 "$binary" -timeout=5 "$input" 2>&1) && {
    echo clean
    return
  }
  frame=$(grep -E '^ +#[0-9]+ 0x' <<<"$report" |
    grep -vE '__sanitizer|__interceptor|__asan|__ubsan|fuzzer::|libc\.so|/libc\.|pthread|raise|abort' |
    grep -vE ' in (malloc|calloc|realloc|free|operator new|operator delete)' |
    head -n 1 || true)
  if [[ $frame == *libhdf5* ]]; then echo hdf5; else echo loom; fi
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

targets=()
while (($#)); do
  case $1 in
    --seconds)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds needs a whole number" >&2; exit 2; }
      seconds=$2
      shift 2
      ;;
    --no-build) build=0; shift ;;
    --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
    -h | --help) usage ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage 2 >&2 ;;
    *)
      if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: unknown target '$1'; the targets are: ${all_targets[*]}" >&2
        exit 2
      fi
      targets+=("$1")
      shift
      ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

if ((build)); then
  # clang and its libFuzzer/sanitizer runtimes come from install-deps, like
  # everything else the build needs.
  scripts/install-deps.sh
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    # -O1 with line tables: reports name file:line at a fraction of full
    # debug info's compile time. Tests are not built here: the replay tests
    # run in the normal build.
    cmake -S . -B "$build_dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
      -DLOOM_FUZZ=ON -DLOOM_BUILD_TESTS=OFF
  fi
  cmake --build "$build_dir" -j "$jobs" --target "${targets[@]/#/fuzz_}"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/loom-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Kept after the run: a crash's reproducer and every target's log.
findings=$root/$build_dir/fuzz-findings
mkdir -p "$findings"

# Leaks are errors; UB prints its stack. symbolize needs llvm-symbolizer (llvm).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for target in "${targets[@]}"; do
  binary=$root/$build_dir/fuzz/fuzz_$target
  [[ -x $binary ]] || { echo "fuzz.sh: $binary is not built" >&2; exit 1; }
  corpus=$work/$target
  mkdir -p "$corpus"
  cp "$root/fuzz/corpus/$target"/* "$corpus"/
  if [[ -d $root/fuzz/regressions/$target ]]; then
    cp "$root/fuzz/regressions/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  artifacts=$findings/$target
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  log=$findings/$target.log
  dict_args=()
  [[ -f $root/fuzz/dict/$target.dict ]] && dict_args=("-dict=$root/fuzz/dict/$target.dict")

  echo "== $target: ${seconds}s, max_len $(max_len_of "$target") (log: $log)"
  read -ra extra_args <<<"$(extra_args_of "$target")"
  status=0
  started=$SECONDS
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  "$binary" "$corpus" -max_total_time="$seconds" -max_len="$(max_len_of "$target")" \
    -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "${dict_args[@]}" "${extra_args[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  ran=$((SECONDS - started))

  done_line=$(grep -a ' cov: [0-9]* ft: ' "$log" | tail -1 || true)
  # Fork mode (token_store) prints no stat:: lines; its last status line
  # counts the executions.
  executions=$(grep -a '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1 || true)
  [[ -n $executions ]] || executions=$(sed -n 's/^#\([0-9]*\):* .*/\1/p' <<<"$done_line")
  rate=$(grep -a '^stat::average_exec_per_sec:' "$log" | awk '{print $2}' | tail -1 || true)
  [[ -n $rate || -z $executions ]] || rate=$((executions / (ran > 0 ? ran : 1)))
  coverage=$(sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*[/0-9a-zA-Z]*\).*/cov \1 ft \2 corpus \3/p' <<<"$done_line")
  summary+=("$(printf '%-20s %6ss %10s execs %7s exec/s  %s' "$target" "$ran" \
    "${executions:-?}" "${rate:-?}" "${coverage:-no final line}")")

  tolerated=()
  if ((${#extra_args[@]})); then
    for input in "$artifacts"/*; do
      [[ -e $input ]] || continue
      kind=$(basename "$input" | cut -d- -f1)
      case $(classify_finding "$binary" "$input") in
        hdf5) echo "warning: $target: $kind inside HDF5, not Loom (see fuzz/README.md): $input" ;;
        clean) echo "warning: $target: a child's $kind that does not happen when its input" \
          "is replayed alone (see fuzz/README.md): $input" ;;
        *) continue ;;
      esac
      tolerated+=("$input")
    done
  fi
  reproducers=()
  for input in "$artifacts"/*; do
    [[ -e $input && " ${tolerated[*]} " != *" $input "* ]] && reproducers+=("$input")
  done
  # In fork mode libFuzzer exits non-zero after the findings it went on
  # past; when none of them was Loom's, that is not a failure.
  if ((${#tolerated[@]} && ${#reproducers[@]} == 0)); then
    status=0
  fi
  if ((status != 0)) || ((${#reproducers[@]})); then
    failed+=("$target")
    echo "!! $target failed (exit $status); the end of its log:"
    tail -n 40 "$log"
    for reproducer in "${reproducers[@]}"; do
      echo "!! reproducer: $reproducer"
      echo "   rerun:   $binary $reproducer"
      echo "   keep it: cp $reproducer fuzz/regressions/$target/  (replayed by ctest -L fuzz)"
    done
  fi
done

echo
echo "fuzz.sh summary ($(date -u +%Y-%m-%d), $(nproc) cores):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz.sh: FAILED: ${failed[*]} (reproducers under $findings)" >&2
  exit 1
fi
echo "fuzz.sh: no crashes"
