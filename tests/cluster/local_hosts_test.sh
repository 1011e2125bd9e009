#!/usr/bin/env bash
# Several hosts on one machine (cluster/local-hosts): starts a 3-host
# cluster with --rate 1gbit and checks that on.sh runs commands on a host
# (its host name), that ssh goes from host to host across the bridge, by
# address and by name (each host's own /etc/hosts), that every host's eth0
# has the tbf and shape.sh changes it, that link.sh down unplugs a host
# (its eth0 loses carrier, an ssh to it fails within ssh_config's
# ConnectTimeout) and up plugs it back, that a second cluster starts beside
# it with a tag of its own, and that the root namespace's /etc/hosts and
# host name are untouched. Then stop.sh: no namespace with the tag is
# left, no recorded sshd and no process on.sh started still runs, and a
# second stop.sh succeeds. Also start.sh's usage errors.
#
#   tests/cluster/local_hosts_test.sh SOURCE_DIR
#
# Exits 77 (ctest's skip) when not root or ip, sshd, unshare or nsenter is
# missing (apt-get install iproute2 openssh-server). Takes about 15 s.
# LOOM_TEST_KEEP=1 keeps the work folder (the clusters are stopped anyway).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 1)) || usage
source_dir=$(cd "$1" && pwd)
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$source_dir/tests/cluster/test_lib.sh"
hosts_dir=$source_dir/cluster/local-hosts

((EUID == 0)) || skip "local-hosts needs root (network namespaces, sshd)"
for program in ip tc /usr/sbin/sshd ssh ssh-keygen unshare nsenter; do
  command -v "$program" >/dev/null || skip "no $program (apt-get install iproute2 openssh-server)"
done

work=$(mktemp -d /tmp/loom-local-hosts-test.XXXXXX)
state=$work/hosts
other=$work/other
finish() {
  local code=$?
  "$hosts_dir/stop.sh" "$state" || code=1
  "$hosts_dir/stop.sh" "$other" || code=1
  remove_work "$work"
  exit "$code"
}
trap finish EXIT

# expect_output WANT COMMAND...: COMMAND succeeds and prints exactly WANT.
expect_output() {
  local want=$1 got
  shift
  got=$("$@" </dev/null) || fail "'$*' failed: $got"
  [[ $got == "$want" ]] || fail "'$*' printed '$got', not '$want'"
}
# ssh from host $1 to host $2 (the rest: the remote command).
ssh_from() {
  local from=$1
  shift
  "$hosts_dir/on.sh" "$state" "$from" ssh -F "$state/ssh_config" "$@" </dev/null
}

# Usage errors come before anything is made.
set +e
"$hosts_dir/start.sh" --hosts 0 "$work/bad" 2>/dev/null
code_hosts=$?
mkdir "$work/full" && touch "$work/full/file"
"$hosts_dir/start.sh" "$work/full" 2>/dev/null
code_full=$?
"$hosts_dir/start.sh" --rate fast "$work/bad" 2>/dev/null
code_rate=$?
set -e
((code_hosts == 2 && code_full == 2 && code_rate == 2)) ||
  fail "start.sh's usage errors exited $code_hosts, $code_full, $code_rate, not 2"
[[ ! -e $work/bad ]] || fail "start.sh made $work/bad despite a usage error"

etc_hosts_before=$(cksum </etc/hosts)
hostname_before=$(hostname)
"$hosts_dir/start.sh" --hosts 3 --rate 1gbit "$state"
tag=$(<"$state/tag")
[[ $tag =~ ^lh[0-9a-f]{5}$ ]] || fail "tag '$tag' is not lh and 5 hex digits"
mapfile -t sshd_pids < <(awk '$2 == "sshd" { print $3 }' "$state/pids")
((${#sshd_pids[@]} == 3)) || fail "$state/pids records ${#sshd_pids[@]} sshd, not 3"
elapsed "3 hosts up, tag $tag"

# Each host is itself; ssh crosses the bridge by name and by address.
for host in h1 h2 h3; do
  expect_output "$host" "$hosts_dir/on.sh" "$state" "$host" hostname
done
expect_output h3 ssh_from h1 h3 hostname
expect_output h2 ssh_from h3 10.213.77.2 hostname
resolved=$("$hosts_dir/on.sh" "$state" h1 getent hosts h2)
[[ $resolved =~ ^10\.213\.77\.2[[:space:]]+h2$ ]] || fail "h1 resolves h2 as '$resolved', not 10.213.77.2"
# shellcheck disable=SC2016 # run by the host's bash
banner=$("$hosts_dir/on.sh" "$state" h1 bash -c 'exec 3<>/dev/tcp/h2/22 && head -c 4 <&3')
[[ $banner == SSH- ]] || fail "h1 reached h2:22 by name but read '$banner', not an ssh banner"
expect_output "10.213.77.3/24" "$hosts_dir/on.sh" "$state" h3 \
  sh -c "ip -4 -o addr show dev eth0 | awk '{ print \$4 }'"
# on.sh keeps the caller's working folder (entering a mount namespace
# would move it to the root).
# shellcheck disable=SC2016 # $1 and $@ are bash -c's, not this script's
expect_output "$work" bash -c 'cd "$1" && shift && exec "$@"' _ "$work" "$hosts_dir/on.sh" "$state" h2 pwd
elapsed "on.sh, ssh by name and by address"

# The rate on every host, and shape.sh changing it.
for i in 1 2 3; do
  qdisc=$(tc -n "$tag-h$i" qdisc show dev eth0)
  [[ $qdisc == *"qdisc tbf "*"rate 1Gbit "* ]] || fail "h$i's eth0 has no tbf at 1gbit: $qdisc"
done
"$hosts_dir/shape.sh" "$state" 100mbit >/dev/null
[[ $(tc -n "$tag-h2" qdisc show dev eth0) == *"rate 100Mbit "* ]] || fail "shape.sh 100mbit did not take"
"$hosts_dir/shape.sh" "$state" off >/dev/null
[[ $(tc -n "$tag-h2" qdisc show dev eth0) != *tbf* ]] || fail "shape.sh off left the tbf"
elapsed "tbf on every host; shape.sh"

# An unplugged host: no carrier, and an ssh to it fails within
# ConnectTimeout (5 s); plugged back, ssh works again.
"$hosts_dir/link.sh" "$state" h2 down >/dev/null
[[ $("$hosts_dir/on.sh" "$state" h2 ip link show eth0) == *NO-CARRIER* ]] ||
  fail "h2's eth0 kept its carrier after link.sh down"
before=$SECONDS
if ssh_from h1 h2 hostname 2>/dev/null; then fail "ssh from h1 reached h2 with h2's link down"; fi
took=$((SECONDS - before))
((took <= 8)) || fail "the ssh to unplugged h2 took $took s to fail (ConnectTimeout 5)"
"$hosts_dir/link.sh" "$state" h2 up >/dev/null
deadline=$((SECONDS + 15))
until [[ $(ssh_from h1 -o ConnectTimeout=2 h2 hostname 2>/dev/null) == h2 ]]; do
  ((SECONDS < deadline)) || fail "ssh from h1 to h2 did not work again within 15 s of link.sh up"
  sleep 0.2
done
elapsed "link.sh down: ssh failed after $took s; up: ssh works"

# A second cluster beside it: another tag, the same addresses, no clash.
"$hosts_dir/start.sh" --hosts 1 "$other" >/dev/null
other_tag=$(<"$other/tag")
[[ $other_tag != "$tag" ]] || fail "two clusters got the same tag $tag"
expect_output h1 "$hosts_dir/on.sh" "$other" h1 ssh -F "$other/ssh_config" h1 hostname
"$hosts_dir/stop.sh" "$other" >/dev/null
expect_output h3 ssh_from h1 h3 hostname
elapsed "a second cluster ($other_tag) beside it, stopped"

# Nothing leaked into the root namespace.
[[ $(cksum </etc/hosts) == "$etc_hosts_before" ]] || fail "/etc/hosts of the root namespace changed"
[[ $(hostname) == "$hostname_before" ]] || fail "the host name changed to $(hostname)"

# stop.sh kills what on.sh started too, and leaves nothing.
"$hosts_dir/on.sh" "$state" h3 sleep 300 &
sleeper=$!
disown # its SIGKILL is expected; no "Killed" from this shell
deadline=$((SECONDS + 5))
until ip netns pids "$tag-h3" | grep -qx "$sleeper"; do
  ((SECONDS < deadline)) || fail "on.sh's sleep (PID $sleeper) is not in $tag-h3"
  sleep 0.1
done
"$hosts_dir/stop.sh" "$state"
# Gone, or a zombie its parent has not reaped yet.
is_dead() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
is_dead "$sleeper" || fail "on.sh's sleep (PID $sleeper) still runs after stop.sh"
left=$(ip netns list | awk -v prefix="$tag-" 'index($1, prefix) == 1')
[[ -z $left ]] || fail "namespaces left after stop.sh: $left"
for pid in "${sshd_pids[@]}"; do
  is_dead "$pid" || [[ $(readlink "/proc/$pid/exe" 2>/dev/null) != */sshd ]] ||
    fail "sshd PID $pid still runs after stop.sh"
done
"$hosts_dir/stop.sh" "$state" >/dev/null || fail "a second stop.sh failed"
elapsed "stopped; nothing left"
echo PASS
