#!/usr/bin/env bash
# Downloads Debian's packages of the libraries Loom builds against, other than
# LibTorch and CUDA, into .cache/gpu-check/debs/ (ignored), for a GPU machine
# that has python3 with a CUDA torch, nvcc, CMake and a compiler, but no apt,
# MPI, HDF5 or yaml-cpp. scripts/gpu-check.sh unpacks them there with
# `dpkg -x` into a private prefix. Also copies Tiny Shakespeare beside them,
# since only the checkout travels to that machine.
#
#   scripts/fetch-gpu-deps.sh          download what is missing (idempotent)
#
# Needs apt-get (any Debian bookworm machine, no root: `apt-get download`
# only reads the package lists; run `apt-get update` once first if they are
# empty). What is fetched is bookworm's current version of each package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dest=.cache/gpu-check
mkdir -p "$dest/debs"

# The headers and CMake/pkg-config files Loom compiles against.
dev_packages=(
  libopenmpi-dev libhdf5-dev libyaml-cpp-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libsentencepiece-dev libcpp-httplib-dev libutf8proc-dev libzstd-dev zlib1g-dev
  libgtest-dev libgmock-dev
  # c10d's Gloo header includes Gloo's own headers, which pip's torch does not ship.
  libgloo-dev
  # pkg-config, which CMake asks for four of these.
  pkgconf pkgconf-bin libpkgconf3
)
# The shared libraries those load, found with ldd on this machine, less the
# C and C++ runtimes and zlib, which every Linux that runs torch has.
runtime_packages=(
  libopenmpi3 libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7 libudev1
  libhdf5-103-1 libsz2 libaec0 libcurl4 libnghttp2-14 libidn2-0 libunistring2 librtmp1
  libssh2-1 libpsl5 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1
  libcom-err2 libldap-2.5-0 libsasl2-2 libgnutls30 libhogweed6 libnettle8 libgmp10
  libp11-kit0 libffi8 libtasn1-6 libssl3 libbrotli1
  libyaml-cpp0.7 libfmt9 libsentencepiece0 libcpp-httplib0.11 libutf8proc2 libzstd1
)

cd "$dest/debs"
missing=()
for package in "${dev_packages[@]}" "${runtime_packages[@]}"; do
  compgen -G "${package}_*.deb" >/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "fetch-gpu-deps: downloading ${#missing[@]} packages"
  apt-get download -q "${missing[@]}"
fi
cd - >/dev/null

corpus=""
for candidate in "${LOOM_DATA:-}" "${LOOM_DATA:-}/tinyshakespeare.txt" \
  ../shared/data/tinyshakespeare.txt data/tinyshakespeare.txt; do
  if [[ -n $candidate && -f $candidate ]]; then
    corpus=$candidate
    break
  fi
done
if [[ -n $corpus ]]; then
  cp "$corpus" "$dest/tinyshakespeare.txt"
else
  echo "fetch-gpu-deps: no tinyshakespeare.txt found: the GPU check will skip training" >&2
fi
echo "fetch-gpu-deps: $(find "$dest" -type f | wc -l) files, $(du -sh "$dest" | cut -f1) in $dest"
