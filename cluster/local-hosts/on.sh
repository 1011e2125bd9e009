#!/usr/bin/env bash
# Runs a command on one host of a local-hosts cluster (start.sh) without
# ssh: in the network, UTS and mount namespaces of that host's sshd, so it
# has the host's address, host name and /etc/hosts, in the caller's working
# folder and environment. It execs the command (nsenter forks nothing
# here), so the caller's PID, wait and kill reach the command itself, and
# stop.sh finds it among the host's processes.
#
#   cluster/local-hosts/on.sh STATE_DIR hN COMMAND [ARGS...]
#   cluster/local-hosts/on.sh /tmp/hosts h1 ssh -F /tmp/hosts/ssh_config h2 hostname
#
# Exit codes: the command's; 1 the host's sshd is not running (or the PID
# recorded for it is another process's); 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

(($# >= 3)) || usage
lh_read_state "$1"
lh_check_host "$2"
pid=$(lh_sshd_pid "$2")
shift 2
# Entering a mount namespace moves the working folder to its root: --wd
# goes back to the caller's (the same files: the hosts share the file
# system but for /etc/hosts).
exec nsenter --target "$pid" --net --uts --mount --wd="$PWD" -- "$@"
