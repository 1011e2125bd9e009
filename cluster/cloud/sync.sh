#!/usr/bin/env bash
# Copies a Loom checkout to rented nodes and a run directory back, with
# rsync over ssh (both ends need rsync).
#
#   cluster/cloud/sync.sh push [--dry-run] [--to DIR] HOSTFILE [PATH...]
#   cluster/cloud/sync.sh pull [--dry-run] [--to DIR] HOST RUN_DIR [DEST]
#
# push: this checkout (sources, configs, build/, data/; not .git, runs/,
# logs/ or other build-* folders) to DIR on every node of the hostfile
# (default: the same path as here; mpirun needs one path on every node),
# and each PATH (a token store kept elsewhere, say) to the same path there.
# Unchanged files are skipped, so pushing again is cheap.
# pull: RUN_DIR from HOST (rank 0's node, which writes checkpoints, metrics
# and samples) into DEST (default: RUN_DIR here); files here that the node
# does not have are kept. A relative RUN_DIR is inside the checkout: DIR
# on the node, this one here.
# Exit codes: 0 copied; 1 rsync failed; 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=hosts.sh
source "$here/hosts.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

fail_usage() {
  echo "sync.sh: $*" >&2
  exit 2
}

(($#)) || usage
mode=$1
shift
to=
while (($#)); do
  case $1 in
    --dry-run) dry_run=1; shift ;;
    --to) (($# >= 2)) || usage; to=$2; shift 2 ;;
    -*) fail_usage "unknown option '$1'" ;;
    *) break ;;
  esac
done
checkout=$(cd "$here/../.." && pwd)
to=${to:-$checkout}
[[ $to == /* ]] || fail_usage "--to must be an absolute path, got '$to'"

# rsync, making the folder DIR on the far side first (rsync makes only the
# last level of a destination). -a keeps times and modes, so unchanged files
# are skipped next time; --partial lets a broken copy of a large store go on
# where it stopped.
rsync_to() {
  local dir=$1
  shift
  run rsync -a --partial -e "ssh -o BatchMode=yes" \
    --rsync-path="mkdir -p $(printf %q "$dir") && rsync" "$@"
}

case $mode in
  push)
    (($# >= 1)) || usage
    hostfile=$1
    shift
    require_hostfile "$hostfile"
    for path in "$@"; do
      [[ $path == /* && -e $path ]] || fail_usage "'$path' must be an absolute path that exists"
    done
    mapfile -t hosts < <(hostfile_hosts "$hostfile")
    for host in "${hosts[@]}"; do
      rsync_to "$to" --exclude=/.git --exclude=/runs --exclude=/logs --exclude='/build-*' \
        "$checkout/" "$host:$to/"
      for path in "$@"; do
        rsync_to "$(dirname "$path")" "${path%/}" "$host:$(dirname "$path")/"
      done
    done
    ;;
  pull)
    (($# == 2 || $# == 3)) || usage
    host=$1
    run_dir=${2%/}
    remote_dir=$run_dir
    [[ $run_dir == /* ]] || { remote_dir=$to/$run_dir; run_dir=$checkout/$run_dir; }
    dest=${3:-$run_dir}
    run mkdir -p "$dest"
    run rsync -a --partial -e "ssh -o BatchMode=yes" "$host:$remote_dir/" "$dest/"
    ;;
  *) usage ;;
esac
