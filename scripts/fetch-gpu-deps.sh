#!/usr/bin/env bash
# Downloads Debian's packages of the libraries Loom builds against, other than
# LibTorch and CUDA (the list: scripts/gpu-check-packages.txt), into
# .cache/gpu-check/debs/ (ignored), for a GPU machine
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

list=$PWD/scripts/gpu-check-packages.txt
mapfile -t packages < <(awk '!/^#/ && NF == 2 {print $2}' "$list")

cd "$dest/debs"
missing=()
for package in "${packages[@]}"; do
  compgen -G "${package}_*.deb" >/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "fetch-gpu-deps: downloading ${#missing[@]} packages"
  apt-get download -q "${missing[@]}"
fi
cd - >/dev/null

corpus=$(scripts/find-corpus.sh || true)
if [[ -n $corpus ]]; then
  cp "$corpus" "$dest/tinyshakespeare.txt"
else
  echo "fetch-gpu-deps: no tinyshakespeare.txt found: the GPU check will skip training" >&2
fi
echo "fetch-gpu-deps: $(find "$dest" -type f | wc -l) files, $(du -sh "$dest" | cut -f1) in $dest"
