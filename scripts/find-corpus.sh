#!/usr/bin/env bash
# Prints the path of Tiny Shakespeare on this machine: $LOOM_DATA (the file,
# or a folder holding tinyshakespeare.txt), then ../shared/data/ beside the
# checkout, then data/ in it. Exit 1 when there is none; exit 2 when
# LOOM_DATA is set but names neither (a mistake, not a missing file).
# Used by demo.sh (which then downloads it) and fetch-gpu-deps.sh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -n ${LOOM_DATA:-} ]]; then
  for candidate in "$LOOM_DATA" "$LOOM_DATA/tinyshakespeare.txt"; do
    if [[ -f $candidate ]]; then
      echo "$candidate"
      exit 0
    fi
  done
  echo "LOOM_DATA=$LOOM_DATA is neither the corpus file nor a folder holding tinyshakespeare.txt" >&2
  exit 2
fi
for candidate in "$repo/../shared/data/tinyshakespeare.txt" "$repo/data/tinyshakespeare.txt"; do
  if [[ -f $candidate ]]; then
    echo "$candidate"
    exit 0
  fi
done
exit 1
