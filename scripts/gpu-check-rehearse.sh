#!/usr/bin/env bash
# Rehearses scripts/gpu-check.sh on this machine (no GPU) as the GPU machine
# will run it: against pip's torch (scripts/install-torch.sh) as "the
# machine's python3", and with this system's own copies of every package
# that the check unpacks from .cache/gpu-check/debs hidden, so that a
# library missing from that list fails here rather than there. Needs root:
# the hiding is an overlay over /usr with a whiteout for each file of those
# packages, mounted in a private mount namespace (unshare -m) that ends with
# the check. Nothing outside that namespace changes.
#
#   scripts/gpu-check-rehearse.sh      (after scripts/fetch-gpu-deps.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ((EUID != 0)); then
  echo "gpu-check-rehearse: needs root (a mount namespace with an overlay over /usr)" >&2
  exit 1
fi
scripts/install-torch.sh >/dev/null
venv_python=$(scripts/install-torch.sh --python)

scratch=$(mktemp -d /tmp/loom-rehearse.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
upper=$scratch/upper
mkdir -p "$upper" "$scratch/work"

# A whiteout (character device 0:0) in the overlay's upper layer hides the
# file of that name below it. Alternatives links (/usr/bin/mpicc ->
# /etc/alternatives/...) are owned by no package: they dangle once their
# targets are hidden, which is the same as absent.
# Only the packages of kinds dev and lib are hidden: the system libraries
# in the list are needed by this machine's own tools (dpkg, python3, cmake).
hide=" $(awk '!/^#/ && ($1 == "dev" || $1 == "lib") {print $2}' scripts/gpu-check-packages.txt | tr '\n' ' ') "
hidden=0
for deb in .cache/gpu-check/debs/*.deb; do
  package=$(dpkg-deb -f "$deb" Package)
  [[ $hide == *" $package "* ]] || continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || continue
  while IFS= read -r path; do
    [[ $path == /usr/* && (-f $path || -L $path) && ! -d $path ]] || continue
    mkdir -p "$upper$(dirname "${path#/usr}")"
    mknod "$upper${path#/usr}" c 0 0
    hidden=$((hidden + 1))
  done < <(dpkg -L "$package")
done
echo "gpu-check-rehearse: hiding $hidden files of this system's copies of the packages"

# The inner script's variables are its own arguments, expanded inside it.
# shellcheck disable=SC2016
unshare --mount --propagation private bash -c '
  set -e
  mount -t overlay loom-rehearse -o "lowerdir=/usr,upperdir=$1,workdir=$2" /usr
  if [[ -e /usr/include/yaml-cpp/yaml.h ]]; then
    echo "gpu-check-rehearse: the overlay hides nothing" >&2
    exit 1
  fi
  LOOM_GPU_CHECK_PYTHON=$3 exec scripts/gpu-check.sh
' rehearse "$upper" "$scratch/work" "$venv_python"
