#!/usr/bin/env bash
# Runs a command against the local SLURM that start.sh started in
# STATE_DIR, with SLURM_CONF set to its slurm.conf: here for a single-node
# SLURM, or, for one started with --hosts, on the local-hosts cluster's
# host h1 (cluster/local-hosts/on.sh), since the controller listens only
# on the hosts' bridge. It execs the command, in the caller's folder and
# environment, so its exit code, PID and output are the command's.
#
#   cluster/local-slurm/on.sh STATE_DIR COMMAND [ARGS...]
#   cluster/local-slurm/on.sh /tmp/slurm sbatch -N 2 cluster/slurm/train.sbatch run.yaml
#   cluster/local-slurm/on.sh /tmp/slurm squeue
#
# Exit codes: the command's; 1 no local SLURM in STATE_DIR (or its hosts are
# gone); 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

(($# >= 2)) || usage
state=$(cd "$1" 2>/dev/null && pwd) || { echo "on.sh: no state folder $1" >&2; exit 1; }
shift
[[ -f $state/slurm.conf ]] || { echo "on.sh: no $state/slurm.conf: start.sh a local SLURM there first" >&2; exit 1; }
export SLURM_CONF=$state/slurm.conf
if [[ -s $state/local-hosts ]]; then
  exec "$here/../local-hosts/on.sh" "$(<"$state/local-hosts")" h1 "$@"
fi
exec "$@"
