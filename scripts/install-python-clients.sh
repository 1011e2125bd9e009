#!/usr/bin/env bash
# Installs the pinned Python libraries that the interop tests drive Loom
# with, from PyPI:
#   - OpenAI's official `openai` client (scripts/python-clients.txt), against
#     `loom serve`, into the ignored folder .cache/python-clients/, with
#     Debian's python3. `make deps` (and so `make test`) runs this.
#   - with --hf, Hugging Face's transformers, tokenizers and safetensors
#     (scripts/python-hf.txt), which load `loom export --format hf`, into the
#     torch environment of scripts/install-torch.sh (they need torch).
#     `make deps TORCH=pip` runs this.
#
#   scripts/install-python-clients.sh [--hf]             install when missing or
#                                                        when the list changed
#   scripts/install-python-clients.sh --python|--hf-python   print that environment's
#                                                        python (exit 1 when not installed)
#
# Without PyPI (or torch, for --hf) it warns and exits 0: the tests that need
# the libraries skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

clients_venv=.cache/python-clients

# The environment's python when `requirements` are installed in it.
installed_python() {
  local venv=$1 requirements=$2
  if cmp -s "$venv/loom-installed-$(basename "$requirements")" "$requirements"; then
    echo "$PWD/$venv/bin/python"
    return 0
  fi
  echo "install-python-clients: $requirements is not installed; run $0${3:+ $3}" >&2
  return 1
}

# pip installs exactly the pinned list; false (after a warning) when it cannot.
install_list() {
  local python=$1 requirements=$2 venv=$3
  echo "install-python-clients: installing $(grep -cv '^#' "$requirements") pinned packages" \
    "($requirements) into $venv"
  if ! "$python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  then
    echo "install-python-clients: warning: pip could not install $requirements (is PyPI" \
      "reachable?); the tests that need them will skip" >&2
    return 1
  fi
  # Written last: an interrupted install is redone next time.
  cp "$requirements" "$venv/loom-installed-$(basename "$requirements")"
}

torch_venv() {
  local torch_python
  torch_python=$(scripts/install-torch.sh --python 2>/dev/null) || return 1
  dirname "$(dirname "$torch_python")"
}

case ${1:-} in
  --python)
    installed_python "$clients_venv" scripts/python-clients.txt
    exit
    ;;
  --hf-python)
    venv=$(torch_venv) || { echo "install-python-clients: torch is not installed" >&2; exit 1; }
    installed_python "${venv#"$PWD"/}" scripts/python-hf.txt --hf
    exit
    ;;
  --hf)
    if ! venv=$(torch_venv); then
      echo "install-python-clients: warning: no torch environment (scripts/install-torch.sh);" \
        "the Hugging Face tests will skip" >&2
      exit 0
    fi
    venv=${venv#"$PWD"/}
    installed_python "$venv" scripts/python-hf.txt >/dev/null 2>&1 ||
      install_list "$venv/bin/python" scripts/python-hf.txt "$venv" || true
    exit 0
    ;;
  "") ;;
  *)
    echo "install-python-clients: unknown option $1 (expected --hf, --python or --hf-python)" >&2
    exit 2
    ;;
esac

if installed_python "$clients_venv" scripts/python-clients.txt >/dev/null 2>&1; then
  exit 0
fi
python=/usr/bin/python3
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-python-clients: warning: $python cannot make a virtual environment" \
    "(Debian: apt-get install python3-venv); the tests that need the clients will skip" >&2
  exit 0
fi
rm -rf "$clients_venv"
"$python" -m venv "$clients_venv"
install_list "$clients_venv/bin/python" scripts/python-clients.txt "$clients_venv" ||
  rm -rf "$clients_venv"
