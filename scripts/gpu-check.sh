#!/usr/bin/env bash
# The GPU check: everything about Loom that only a GPU can show, in one
# command, for a lent GPU machine that has python3 with a CUDA torch, nvcc,
# CMake and a C++ compiler but none of Loom's other libraries. From the
# checkout's root, after scripts/fetch-gpu-deps.sh has filled
# .cache/gpu-check/ here (carry that folder):
#
#   scripts/gpu-check.sh
#
# Parts, each recorded in the summary as passed, FAILED or skipped:
#   1. machine  the GPU, the driver and torch as python3 sees them
#   2. deps     Debian's packages unpacked into a private prefix (dpkg -x)
#   3. build    Loom against that torch with CUDA on: `loom` and the cuda tests
#   4. version  `loom --version` names LibTorch 2.x, CUDA and NCCL
#   5. cuda     the `cuda` tests: NCCL of one rank, gradient sync on CUDA,
#               bf16 and fp16 steps, resume on CUDA, KV-cached generation
#   6. train    shakespeare_char (nanoGPT's baby GPT) for 200 steps in bf16:
#               tokens/s and MFU against nanoGPT's A100 figure and the
#               GPU's bf16 peak
# Every log and the summary go to $OUT (the device tool's folder) or, where
# that is unset, .cache/gpu-check/out/. Exit status: 0 when nothing failed.
#
# Settings (environment): LOOM_GPU_CHECK_PYTHON (the python3 whose torch to
# build against), LOOM_GPU_CHECK_PREFIX (where the packages are unpacked,
# /tmp/loom-gpu-deps), LOOM_GPU_CHECK_BUILD (build folder, build-gpu),
# LOOM_GPU_CHECK_STEPS (training steps, 200). scripts/gpu-check-rehearse.sh
# runs this on a machine without a GPU with the system's copies of the
# packages hidden.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

python=${LOOM_GPU_CHECK_PYTHON:-python3}
prefix=${LOOM_GPU_CHECK_PREFIX:-/tmp/loom-gpu-deps}
build=${LOOM_GPU_CHECK_BUILD:-build-gpu}
steps=${LOOM_GPU_CHECK_STEPS:-200}
cache=.cache/gpu-check
out=${OUT:-$cache/out}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
exec > >(tee "$out/gpu-check.log") 2>&1
tee_pid=$!
started=$SECONDS
failed=0

# record PART STATUS DETAIL: one line of the summary.
record() {
  printf '%-8s %-8s %s\n' "$1" "$2" "$3" | tee -a "$summary"
  [[ $2 == FAILED ]] && failed=1
  return 0
}
section() { echo; echo "=== gpu-check: $1 ($((SECONDS - started)) s)"; }
# Ends the check once tee has written the whole log.
finish() {
  exec >&- 2>&-
  wait "$tee_pid"
  exit "$failed"
}

# ---------------------------------------------------------------- 1. machine
section "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$out/nvidia-smi.txt"
gpu=$("$python" - <<'EOF' 2>&1
import torch
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"{p.name}|{torch.__version__}|{torch.version.cuda}|{torch.cuda.nccl.version()}")
else:
    print(f"|{torch.__version__}|{torch.version.cuda}|")
EOF
)
IFS='|' read -r gpu_name torch_version torch_cuda torch_nccl <<<"$(tail -1 <<<"$gpu")"
if [[ -z ${torch_version:-} ]]; then
  record machine FAILED "$python cannot import torch: $gpu"
  finish
fi
if [[ -n $gpu_name ]]; then
  record machine passed "$gpu_name; torch $torch_version (CUDA $torch_cuda, NCCL $torch_nccl)"
else
  record machine skipped "no GPU visible to torch $torch_version (CUDA $torch_cuda): GPU parts skip"
fi

# ------------------------------------------------------------------- 2. deps
section "deps"
unpack() {  # unpack DEB INTO: dpkg -x where there is dpkg, else ar + tar
  if command -v dpkg >/dev/null; then
    dpkg -x "$1" "$2"
  else
    local member
    member=$(ar t "$1" | grep '^data\.tar')
    ar p "$1" "$member" | tar -x -C "$2" -f - --use-compress-program="$(
      case $member in *.xz) echo xz ;; *.zst) echo zstd ;; *.gz) echo gzip ;; *) echo cat ;; esac
    ) -d"
  fi
}
# The prefix is emptied first, so it must be one this script made.
if [[ -e $prefix && ! -e $prefix/.loom-gpu-deps ]] && [[ -n $(ls -A "$prefix") ]]; then
  record deps FAILED "$prefix exists and was not made by this check: set LOOM_GPU_CHECK_PREFIX"
  finish
fi
rm -rf "$prefix" && mkdir -p "$prefix/system" && touch "$prefix/.loom-gpu-deps"
debs=("$cache"/debs/*.deb)
if [[ ! -f ${debs[0]} ]]; then
  record deps FAILED "no packages in $cache/debs: run scripts/fetch-gpu-deps.sh first and carry $cache"
  finish
fi
# Packages of kind `system` go to a folder of their own, and of those only
# the libraries this machine lacks stay: a program of the machine's (cmake,
# the compiler, python3) must keep loading its own copies.
system_packages=" $(awk '!/^#/ && $1 == "system" {print $2}' scripts/gpu-check-packages.txt | tr '\n' ' ') "
deps_ok=1
for deb in "${debs[@]}"; do
  package=$(basename "$deb")
  package=${package%%_*}
  target=$prefix
  [[ $system_packages == *" $package "* ]] && target=$prefix/system
  unpack "$deb" "$target" || { deps_ok=0; echo "cannot unpack $deb"; }
done
system_lib=$prefix/system/usr/lib/x86_64-linux-gnu
kept=()
if command -v ldconfig >/dev/null; then
  known=$(ldconfig -p)
  # A library goes by its soname: a link (libcurl.so.4 -> libcurl.so.4.8.0)
  # or, for some, the file itself (libssl.so.3).
  targets=" $(find "$system_lib" -maxdepth 1 -type l -printf '%l ') "
  for library in "$system_lib"/*.so.*; do
    name=$(basename "$library")
    [[ -L $library || $targets != *" $name "* ]] || continue
    if grep -q "^[[:space:]]*$name (" <<<"$known"; then
      [[ -L $library ]] && rm -f "$system_lib/$(readlink "$library")"
      rm -f "$library"
    else
      kept+=("$name")
    fi
  done
fi
echo "system libraries this machine lacks, used from the prefix: ${kept[*]:-none}"
arch_lib=$prefix/usr/lib/x86_64-linux-gnu
# Open MPI finds its own files relative to this once moved; pkg-config reads
# only the prefix's .pc files and puts the prefix before their paths.
export OPAL_PREFIX=$prefix/usr
export PKG_CONFIG_LIBDIR=$arch_lib/pkgconfig:$prefix/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$prefix
runtime_path=$arch_lib:$arch_lib/openmpi/lib:$arch_lib/hdf5/serial:$system_lib
if ((deps_ok)); then
  record deps passed "${#debs[@]} packages unpacked into $prefix"
else
  record deps FAILED "some packages did not unpack (see gpu-check.log)"
fi

# ------------------------------------------------------------------ 3. build
section "build"
torch_cmake=$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
rm -rf "$build"
# Warnings are not errors here: this machine's compiler may warn where
# Debian's GCC 12 does not, and CI holds the code to -Werror. Tests are
# listed when ctest runs (PRE_TEST), so the build never starts one.
configure=(cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  -DLOOM_CUDA=ON -DLOOM_WERROR=OFF
  "-DCMAKE_PREFIX_PATH=$torch_cmake;$prefix/usr"
  -DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu
  # Debian's compilers search this multiarch folder by themselves (OpenSSL's
  # opensslconf.h is there); for the prefix it must be named.
  "-DCMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES=$prefix/usr/include/x86_64-linux-gnu"
  "-DCMAKE_C_STANDARD_INCLUDE_DIRECTORIES=$prefix/usr/include/x86_64-linux-gnu"
  "-DMPI_C_COMPILER=$prefix/usr/bin/mpicc.openmpi"
  "-DMPI_CXX_COMPILER=$prefix/usr/bin/mpicxx.openmpi"
  "-DPKG_CONFIG_EXECUTABLE=$prefix/usr/bin/pkgconf"
  "-DMPIEXEC_EXECUTABLE=$prefix/usr/bin/mpirun.openmpi"
  "-DHDF5_ROOT=$arch_lib/hdf5/serial" "-DHDF5_C_INCLUDE_DIR=$prefix/usr/include/hdf5/serial"
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST)
if LD_LIBRARY_PATH=$runtime_path "${configure[@]}" >"$out/configure.log" 2>&1 &&
  cmake --build "$build" -j "$(nproc)" --target loom cuda_tests >"$out/build.log" 2>&1; then
  record build passed "loom and cuda_tests against torch $torch_version with CUDA on ($((SECONDS - started)) s so far)"
  built=1
else
  tail -40 "$out/configure.log" "$out/build.log" 2>/dev/null
  record build FAILED "see configure.log and build.log"
  built=0
fi

export LD_LIBRARY_PATH=$runtime_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
loom=$build/src/loom

# ---------------------------------------------------------------- 4. version
section "version"
if ((built)); then
  "$loom" --version | tee "$out/version.txt"
  if grep -q "LibTorch  2\." "$out/version.txt" && grep -q "CUDA      [0-9]" "$out/version.txt" &&
    grep -q "NCCL      [0-9]" "$out/version.txt"; then
    record version passed "$(grep -E 'LibTorch|CUDA|NCCL' "$out/version.txt" | tr -s ' ' | paste -sd ';')"
  else
    record version FAILED "loom --version does not name LibTorch 2.x, CUDA and NCCL"
  fi
else
  record version skipped "no build"
fi

# ------------------------------------------------------------------- 5. cuda
section "cuda tests"
if ((built)); then
  timeout 300 ctest --test-dir "$build" -L cuda --no-tests=error --output-on-failure \
    >"$out/cuda-tests.log" 2>&1
  status=$?
  cat "$out/cuda-tests.log"
  result=$(grep -E "tests passed|tests failed" "$out/cuda-tests.log" | tail -1)
  skipped=$(grep -c "(Skipped)" "$out/cuda-tests.log")
  if ((status != 0)) || [[ $result != *"tests passed"* ]]; then
    record cuda FAILED "${result:-ctest exit $status}"
  elif [[ -z $gpu_name ]]; then
    record cuda skipped "$result; $skipped of them skipped for want of a GPU"
  elif ((skipped > 0)); then
    record cuda FAILED "$result, but $skipped skipped on a machine with a GPU"
  else
    record cuda passed "$result"
  fi
else
  record cuda skipped "no build"
fi

# ------------------------------------------------------------------ 6. train
section "train"
corpus=$cache/tinyshakespeare.txt
run_root=$(mktemp -d /tmp/loom-gpu-run.XXXXXX)
if ((!built)); then
  record train skipped "no build"
elif [[ ! -f $corpus ]]; then
  record train skipped "no $corpus (scripts/fetch-gpu-deps.sh copies it)"
else
  if [[ -n $gpu_name ]]; then
    device=(--set run.device=cuda --set train.precision=bf16)
  else
    # Without a GPU the same commands run a few steps on the CPU, so the
    # rehearsal exercises them; no figure from it is a GPU figure.
    steps=3
    device=(--set run.device=cpu --set train.batch_size=4 --set optim.warmup_iters=1
      --set train.log_interval=1 --set eval.iters=2)
  fi
  # Dense bf16 peaks from NVIDIA's data sheets (SXM parts).
  case $gpu_name in
    *H100* | *H200*) peak=989 ;;
    *A100*) peak=312 ;;
    *) peak=989 ;;  # unknown GPU: figures are against an H100's peak, as the summary says
  esac
  if "$loom" prepare configs/shakespeare_char.yaml --input "$corpus" \
    --out "$run_root/shakespeare_char.h5" >"$out/prepare.log" 2>&1 &&
    "$loom" train configs/shakespeare_char.yaml --set data.store="$run_root/shakespeare_char.h5" \
      --set run.out_dir="$run_root/runs" --set train.max_iters="$steps" \
      --set eval.interval=1000000 --set checkpoint.interval=1000000 \
      --set train.peak_tflops=$peak "${device[@]}" >"$out/train.log" 2>&1; then
    cp "$run_root/runs/shakespeare_char/metrics.jsonl" "$out/train-metrics.jsonl"
    figures=$("$python" - "$out/train-metrics.jsonl" "$peak" <<'EOF'
import json, statistics, sys
records = [json.loads(line) for line in open(sys.argv[1]) if '"loss"' in line]
steady = [r for r in records if r["step"] > 20] or records
tps = statistics.median(r["tokens_per_second"] for r in steady)
mfu = statistics.median(r["mfu"] for r in steady)
peak = float(sys.argv[2])
# nanoGPT's README: this model, 5000 steps of 64 x 256 tokens, "about 3
# minutes" on one A100 (evaluations included): about 455,000 tokens/s.
nanogpt = 5000 * 64 * 256 / 180
print(f"{tps:,.0f} tokens/s (median after step 20), MFU {100 * mfu:.1f}% of {peak:.0f} TFLOP/s bf16, "
      f"{tps / nanogpt:.2f}x nanoGPT's A100 figure ({nanogpt:,.0f} tokens/s); "
      f"loss {records[0]['loss']:.3f} -> {records[-1]['loss']:.3f} in {records[-1]['step']} steps")
EOF
    )
    if [[ -z $figures ]]; then
      record train FAILED "train-metrics.jsonl has no tokens/s or MFU to report"
    elif [[ -n $gpu_name ]]; then
      record train passed "$figures"
    else
      record train skipped "no GPU: $steps CPU steps ran as a rehearsal, not GPU figures: $figures"
    fi
  else
    tail -20 "$out/prepare.log" "$out/train.log"
    record train FAILED "see prepare.log and train.log"
  fi
fi
rm -rf "$run_root"

section "summary"
cat "$summary"
echo "gpu-check: $((SECONDS - started)) s; logs in $out"
finish
