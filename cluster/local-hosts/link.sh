#!/usr/bin/env bash
# Unplugs or plugs back one host of a local-hosts cluster (start.sh): sets
# the host's port on the switch (veth hN in namespace TAG-sw) down or up,
# so the host's eth0 loses its carrier as with a pulled cable: its
# packets go nowhere, connections to and from it stall, and new ones time
# out, until `up`. The host's own processes and addresses stay as they are.
#
#   cluster/local-hosts/link.sh STATE_DIR hN down|up
#
# Exit codes: 0 done; 1 no such cluster or host; 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

(($# == 3)) || usage
[[ $3 == down || $3 == up ]] || usage
lh_read_state "$1"
lh_check_host "$2"
ip -n "$lh_tag-sw" link set "$2" "$3"
echo "link of $2 $3"
