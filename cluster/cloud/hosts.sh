# Shared by the cloud scripts (sourced, not run): reading an Open MPI
# hostfile, and running commands or only printing them (--dry-run).
# shellcheck shell=bash

# The hosts of an Open MPI hostfile ("HOST slots=N" lines; # comments),
# one per line, in the file's order.
hostfile_hosts() {
  sed -e 's/#.*//' "$1" | awk 'NF { print $1 }'
}

# The ranks a hostfile holds: the sum of its slots (a line without slots=
# counts 1, as Open MPI counts it).
hostfile_slots() {
  sed -e 's/#.*//' "$1" | awk '
    NF { n = 1; for (i = 2; i <= NF; ++i) if ($i ~ /^slots=[0-9]+$/) n = substr($i, 7); total += n }
    END { print total + 0 }'
}

# Fails (exit 2) unless the hostfile exists and names at least one host.
require_hostfile() {
  [[ -f $1 ]] || { echo "$(basename "$0"): no hostfile '$1'" >&2; exit 2; }
  [[ -n $(hostfile_hosts "$1") ]] || { echo "$(basename "$0"): hostfile '$1' names no host" >&2; exit 2; }
}

# Runs its arguments, or prints them (shell-quoted) when dry_run is 1.
dry_run=0
run() {
  if ((dry_run)); then
    local quoted
    quoted=$(printf '%q ' "$@")
    echo "${quoted% }"
  else
    "$@"
  fi
}
