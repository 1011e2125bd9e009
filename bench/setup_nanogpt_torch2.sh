#!/usr/bin/env bash
# Sets up the Python environment in which bench/train_bench.sh runs nanoGPT on
# PyTorch 2.x (its torch2* peers): a virtual environment in the ignored folder
# .cache/bench-venv-torch2/ with torch 2.11.0 and numpy 2.3.5, pinned.
#
#   bench/setup_nanogpt_torch2.sh            set up when missing (idempotent)
#   bench/setup_nanogpt_torch2.sh --python   print the environment's python only
#
# torch comes from PyTorch's CPU-only index (download.pytorch.org/whl/cpu,
# about 200 MB) when that is reachable. Otherwise the environment reuses the
# torch 2.11.0 that scripts/install-torch.sh installs for `make ... TORCH=pip`
# (PyPI's wheel, built with CUDA, which runs on CPUs too; about 4.5 GB,
# installed only if it is not there yet): a .pth file puts that environment's
# packages behind this one's, so it is not changed. numpy comes from PyPI.
# Python: $PYTHON, else python3 (3.10 or newer, for torch 2.11).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

torch_version=2.11.0
numpy_version=2.3.5
cpu_index=https://download.pytorch.org/whl/cpu
venv=.cache/bench-venv-torch2
# Written last, naming where torch came from: an interrupted set-up is redone.
stamp=$venv/loom-bench-torch

die() {
  echo "setup_nanogpt_torch2: $*" >&2
  exit 1
}
note() { echo "setup_nanogpt_torch2: $*" >&2; }

case ${1:-} in
  --python)
    [[ -f $stamp ]] || die "the environment is not set up; run bench/setup_nanogpt_torch2.sh"
    echo "$PWD/$venv/bin/python"
    exit 0
    ;;
  "") ;;
  *) die "unknown option '$1' (expected --python or nothing)" ;;
esac

if [[ -f $stamp ]] && "$venv/bin/python" -c 'import numpy, torch' 2>/dev/null; then
  note "already set up in $venv ($(cat "$stamp"))"
  exit 0
fi

pip() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }

python=${PYTHON:-python3}
"$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
  die "$python is not a Python 3.10 or newer that can make a virtual environment (set PYTHON)"
started=$SECONDS
rm -rf "$venv"
mkdir -p .cache
if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=15)' \
  "$cpu_index" 2>/dev/null; then
  note "installing torch==$torch_version (CPU-only build) from $cpu_index into $venv"
  "$python" -m venv "$venv"
  pip --index-url "$cpu_index" "torch==$torch_version+cpu"
  source="torch $torch_version+cpu from $cpu_index"
else
  note "$cpu_index is unreachable: reusing the torch $torch_version of scripts/install-torch.sh"
  scripts/install-torch.sh >&2
  torch_python=$(scripts/install-torch.sh --python)
  torch_site=$("$torch_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # The same interpreter as the torch environment: its packages are built for it.
  "$torch_python" -m venv "$venv"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$torch_site" >"$site/loom-torch-$torch_version.pth"
  source="torch $torch_version of $torch_site (scripts/install-torch.sh)"
fi
note "installing numpy==$numpy_version from PyPI"
pip "numpy==$numpy_version"
found=$("$venv/bin/python" -c 'import numpy, torch; print(torch.__version__.split("+")[0], numpy.__version__)') ||
  die "torch or numpy does not import in $venv"
[[ $found = "$torch_version $numpy_version" ]] ||
  die "$venv has torch and numpy '$found', expected '$torch_version $numpy_version'"
echo "$source, numpy $numpy_version" >"$stamp"
note "done in $((SECONDS - started)) s: $(cat "$stamp"); $(du -sh "$venv" | cut -f1) in $venv"
