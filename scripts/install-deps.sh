#!/usr/bin/env bash
# Installs Loom's build and run dependencies from Debian's (or Ubuntu's) package
# registry. Idempotent: when every package is already installed it changes
# nothing and runs no apt-get at all, so `make test` can call it every time.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    list what is missing, exit 1 if anything is
set -euo pipefail

# One line per package, grouped by why Loom needs it.
packages=(
  # toolchain
  build-essential cmake pkg-config git clang-format
  # LibTorch (CPU, 1.13 on bookworm) and an optimized BLAS: without an
  # optimized BLAS Debian's LibTorch uses the reference one and every matrix
  # product is 25-50x slower.
  libtorch-dev libopenblas0-openmp
  # MPI: headers, libraries and the mpirun launcher
  libopenmpi-dev openmpi-bin
  # corpora and the token store: compressed input, Unicode normalisation
  libhdf5-dev zlib1g-dev libzstd-dev libutf8proc-dev
  # configs, command line, logging, JSON
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  # tokenizers and the web playground
  libsentencepiece-dev libcpp-httplib-dev libgloo-dev
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the
  # sanitizer runtimes (a Recommends of clang, so named), llvm-symbolizer
  clang libclang-rt-14-dev llvm
  # tests, including the h5py interop check; ccache speeds up rebuilds
  libgtest-dev libgmock-dev python3 python3-h5py python3-numpy ccache
  # the safetensors export round trip (scripts/load_safetensors.py, a test)
  python3-torch
  # the virtual environment of pip's LibTorch 2.x (scripts/install-torch.sh)
  python3-venv
  # fetching the demo corpus when it is not on disk
  ca-certificates curl
  # a single-node SLURM for the cluster tests
  slurmctld slurmd slurm-client munge
  # several hosts for the multihost tests: sshd in network namespaces
  openssh-server iproute2
  # linting the shell scripts (a test)
  shellcheck
  # the playground's test in a real headless browser
  chromium chromium-driver python3-selenium
  # the server under load: an HTTP benchmark (bench/serve_load_bench.sh, a test)
  wrk
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [[ ${1:-} == --check ]]; then
  if ((${#missing[@]})); then
    echo "missing: ${missing[*]}"
    exit 1
  fi
  echo "all dependencies installed"
  exit 0
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if ((EUID == 0)); then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
