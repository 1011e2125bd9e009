#!/usr/bin/env bash
# Stops rented nodes when the training on them is done, so they bill no
# longer than the run: runs COMMAND and, only when it exits 0, runs the
# --save command (copy the run somewhere that outlives the nodes) and then
# the --stop command on every other node of the hostfile (over ssh) and
# last on this one. Any other exit (3: stopped with a checkpoint, 1: a
# failure) leaves every node up, to go on or look into.
#
#   cluster/cloud/stop-when-done.sh [--dry-run] [--hostfile FILE] [--save CMD] [--stop CMD] -- COMMAND [ARGS...]
#   cluster/cloud/stop-when-done.sh --hostfile hostfile \
#     --save 'rsync -a runs/ /lambda/nfs/loom-runs/' -- \
#     cluster/cloud/launch.sh hostfile configs/gpt2_124m_bpe.yaml
#
# --stop defaults to `sudo shutdown -h now`. Whether a node that shuts
# itself down still bills depends on the provider: where it does (Lambda
# Cloud's instances, for one), pass the provider's terminate command (its
# CLI or API) as --stop. A failed --save stops nothing. --dry-run runs
# COMMAND and --save but only prints the stop commands.
# Exit code: COMMAND's; 1 when --save or a stop failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=hosts.sh
source "$here/hosts.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

hostfile=
save=
stop='sudo shutdown -h now'
while (($#)); do
  case $1 in
    --dry-run) dry_run=1; shift ;;
    --hostfile) (($# >= 2)) || usage; hostfile=$2; shift 2 ;;
    --save) (($# >= 2)) || usage; save=$2; shift 2 ;;
    --stop) (($# >= 2)) || usage; stop=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "stop-when-done.sh: unknown argument '$1' (the command goes after --)" >&2; exit 2 ;;
  esac
done
(($#)) || usage
[[ -z $hostfile ]] || require_hostfile "$hostfile"

status=0
"$@" || status=$?
if ((status != 0)); then
  echo "stop-when-done.sh: '$*' exited with $status; the nodes stay up"
  exit "$status"
fi

if [[ -n $save ]]; then
  echo "stop-when-done.sh: saving: $save"
  bash -c "$save" || { echo "stop-when-done.sh: the save command failed; the nodes stay up" >&2; exit 1; }
fi

# The names and addresses this node goes by, to tell it apart in the hostfile.
this_node=(localhost 127.0.0.1 "$(hostname)" "$(hostname -s)" "$(hostname -f 2>/dev/null || true)")
read -ra addresses <<<"$(hostname -I 2>/dev/null || true)"
this_node+=("${addresses[@]}")
is_this_node() {
  local name
  for name in "${this_node[@]}"; do [[ -n $name && $1 == "$name" ]] && return 0; done
  return 1
}

failed=0
if [[ -n $hostfile ]]; then
  mapfile -t hosts < <(hostfile_hosts "$hostfile")
  for host in "${hosts[@]}"; do
    is_this_node "$host" && continue
    echo "stop-when-done.sh: stopping $host"
    run ssh -n -o BatchMode=yes "$host" "$stop" || { echo "stop-when-done.sh: stopping $host failed" >&2; failed=1; }
  done
fi
echo "stop-when-done.sh: stopping this node"
run bash -c "$stop" || { echo "stop-when-done.sh: stopping this node failed" >&2; failed=1; }
exit "$failed"
