#!/usr/bin/env bash
# Installs the pinned Python clients that the interop tests drive against
# `loom serve` (OpenAI's official `openai` package; scripts/python-clients.txt)
# into a virtual environment in the ignored folder .cache/python-clients/,
# from PyPI, with Debian's python3. `make deps` (and so `make test`) runs it.
#
#   scripts/install-python-clients.sh            install when missing or when
#                                                python-clients.txt changed
#   scripts/install-python-clients.sh --python   print the environment's python
#                                                (exit 1 when not installed)
#
# Without PyPI it warns and exits 0: the tests that need the clients skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.cache/python-clients
requirements=scripts/python-clients.txt
stamp=$venv/loom-installed-from.txt

if [[ ${1:-} == --python ]]; then
  if [[ -f $stamp ]] && cmp -s "$stamp" "$requirements"; then
    echo "$PWD/$venv/bin/python"
    exit 0
  fi
  echo "install-python-clients: not installed; run scripts/install-python-clients.sh" >&2
  exit 1
elif [[ -n ${1:-} ]]; then
  echo "install-python-clients: unknown option $1 (expected --python)" >&2
  exit 2
fi

if [[ -f $stamp ]] && cmp -s "$stamp" "$requirements"; then
  exit 0
fi
python=/usr/bin/python3
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-python-clients: warning: $python cannot make a virtual environment" \
    "(Debian: apt-get install python3-venv); the tests that need the clients will skip" >&2
  exit 0
fi
echo "install-python-clients: installing $(grep -cv '^#' "$requirements") pinned packages into $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$requirements"; then
  rm -rf "$venv"
  echo "install-python-clients: warning: pip could not install them (is PyPI reachable?);" \
    "the tests that need the clients will skip" >&2
  exit 0
fi
# Written last: an interrupted install is redone next time.
cp "$requirements" "$stamp"
