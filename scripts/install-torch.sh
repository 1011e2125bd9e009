#!/usr/bin/env bash
# Installs the pinned LibTorch 2.x that `make ... TORCH=pip` builds against:
# PyPI's torch wheel, which is a complete LibTorch (headers, libraries and
# CMake files under torch/share/cmake) built with CUDA, in a virtual
# environment in the ignored folder .cache/torch-<version>/. pip brings the
# CUDA runtime, cuDNN and NCCL wheels that libtorch_cuda.so loads through its
# RPATH, so the build links the very NCCL that LibTorch itself uses.
#
#   scripts/install-torch.sh              install when missing (idempotent)
#   scripts/install-torch.sh --prefix     print the CMake prefix path only
#   scripts/install-torch.sh --python     print the environment's python only
#
# The version is pinned to the one on the GPU machines Loom is checked on
# (torch 2.11.0+cu130): PyPI's 2.11.0 wheel for Linux x86-64 is that same
# CUDA 13.0 build, matching the CUDA 13.0 toolkit its CMake files look for.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

torch_version=2.11.0
venv=.cache/torch-$torch_version
stamp=$venv/loom-cmake-prefix-path

case ${1:-} in
  --prefix | --python)
    if [[ ! -f $stamp ]]; then
      echo "install-torch: torch $torch_version is not installed; run scripts/install-torch.sh" >&2
      exit 1
    fi
    if [[ $1 == --prefix ]]; then cat "$stamp"; else echo "$PWD/$venv/bin/python"; fi
    exit 0
    ;;
  "") ;;
  *)
    echo "install-torch: unknown option $1 (expected --prefix or --python)" >&2
    exit 2
    ;;
esac

if [[ -f $stamp && -d $(cat "$stamp") ]]; then
  echo "install-torch: torch $torch_version already in $venv"
  exit 0
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-torch: $python cannot make a virtual environment (Debian: apt-get install python3-venv)" >&2
  exit 1
fi

echo "install-torch: installing torch==$torch_version from PyPI into $venv (about 4.5 GB)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$torch_version"
# torch.utils.cmake_prefix_path, found without importing torch (which would
# load the whole CUDA stack and ask for numpy).
prefix=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch/share/cmake
# The stamp is written last: an interrupted install is redone next time.
echo "$prefix" >"$stamp"
echo "install-torch: done; CMake prefix path $prefix"
