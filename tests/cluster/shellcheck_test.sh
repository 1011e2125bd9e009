#!/usr/bin/env bash
# Lints Loom's shell scripts with shellcheck: every file under cluster/,
# launch/, scripts/ and tests/cluster/ that starts with a bash or sh
# shebang (train.sbatch included), following the files they source.
#
#   tests/cluster/shellcheck_test.sh SOURCE_DIR
#
# Exits 77 (ctest's skip) when shellcheck is not installed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 1)) || usage
cd "$1"
command -v shellcheck >/dev/null || { echo "SKIP: shellcheck is not installed (apt-get install shellcheck)"; exit 77; }

scripts=()
while IFS= read -r -d '' file; do
  [[ $(head -n 1 "$file") =~ ^\#!.*(bash|/sh)([[:space:]]|$) ]] && scripts+=("$file")
done < <(find cluster launch scripts tests/cluster -type f -print0 | sort -z)
((${#scripts[@]})) || { echo "FAIL: found no shell scripts" >&2; exit 1; }

echo "shellcheck ${#scripts[@]} scripts: ${scripts[*]}"
shellcheck --external-sources "${scripts[@]}"
echo PASS
