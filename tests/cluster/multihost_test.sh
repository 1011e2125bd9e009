#!/usr/bin/env bash
# Training across hosts: two hosts of a local-hosts cluster (network
# namespaces on a bridge, each with its own address, host name and sshd;
# cluster/local-hosts), one rank on each, everything between them over TCP
# across the bridge. One case per run:
#
#   mpirun     mpirun --hostfile over ssh (btl tcp, eth0 only): 2 hosts x 1
#              rank trains what 1 rank with accumulation 2 trains: the same
#              per-step losses and weights within 1e-5
#   env        the same, each host starting `loom train` with RANK and
#              WORLD_SIZE, MASTER_ADDR on h1 (Gloo; dist.interface: eth0)
#   kill       a rank SIGKILLed mid-run (ranks from the environment): the
#              other ends with exit code 5 within seconds, naming the rank
#              and host it lost
#   kill-mpirun  the same under mpirun: mpirun and the survivor end
#   link       h2's link goes down mid-run: both ranks end with exit code 5
#              within dist.timeout (+ slack), each naming the other
#   freeze     h2's processes are frozen (SIGSTOP): h1's rank ends with exit
#              code 5 within dist.timeout; thawed, h2's rank ends too
#
# After every fault no loom (or mpirun) process is left on either host, the
# last checkpoint is intact, and the same launch resumes from it and
# finishes with every step's loss equal (1e-5) to an uninterrupted run's.
# Dropout off and fp32, so that the equivalences hold to float rounding.
#
#   tests/cluster/multihost_test.sh SOURCE_DIR LOOM_BINARY CASE
#
# Exits 77 (ctest's skip) when not root or local-hosts' programs are
# missing. LOOM_TEST_KEEP=1 keeps the work folder. Each case 10-40 s.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 3)) || usage
source_dir=$(cd "$1" && pwd)
loom=$(realpath "$2")
case_name=$3
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$source_dir/tests/cluster/test_lib.sh"
hosts_dir=$source_dir/cluster/local-hosts

((EUID == 0)) || skip "the multihost tests need root (network namespaces, sshd)"
for program in ip /usr/sbin/sshd ssh ssh-keygen unshare nsenter mpirun /usr/bin/python3; do
  command -v "$program" >/dev/null || skip "no $program (scripts/install-deps.sh installs it)"
done
[[ -x $loom ]] || fail "no loom binary at $loom"

work=$(mktemp -d /tmp/loom-multihost-test.XXXXXX)
state=$work/hosts
finish() {
  local code=$?
  "$hosts_dir/stop.sh" "$state" >/dev/null || code=1
  remove_work "$work"
  exit "$code"
}
trap finish EXIT
cd "$work"

timeout_s=5  # dist.timeout of the fault cases
resume_iters=240
write_corpus corpus.txt
write_run_config "$work" "$resume_iters" "micro_batch: 8, precision: fp32"
sed -i 's/dropout: 0.1/dropout: 0.0/; s/interval: 1000, keep_last: 2/interval: 40, keep_last: 3/' run.yaml
"$loom" prepare run.yaml >prepare.log 2>&1 || fail "prepare: $(cat prepare.log)"
"$hosts_dir/start.sh" --hosts 2 "$state" >hosts.log 2>&1 || fail "start.sh: $(cat hosts.log)"
tag=$(sed -n 's/^LOOM_HOSTS_TAG=//p' "$state/env")

# The reference: one rank, batch 16 in two micro-batches of 8, on no host
# of the cluster.
"$loom" train run.yaml --no-progress-bar --set run.name=reference >reference.log 2>&1 ||
  fail "the reference run failed: $(tail -n 5 reference.log)"

# loom_pids HOST: the loom processes running on HOST (in its namespace).
loom_pids() {
  local pid
  for pid in $(ip netns pids "$tag-$1"); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$loom" ]] && echo "$pid"
  done
  return 0
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within $1 s"
    sleep 0.1
  done
}

no_loom_left() { [[ -z $(loom_pids h1)$(loom_pids h2) ]]; }
reached_step() { [[ $(step_losses "runs/$1/metrics.jsonl" 2>/dev/null | tail -n 1) =~ ^([0-9]+) ]] && ((BASH_REMATCH[1] >= $2)); }

# start_env_ranks RUN [--set ...]: rank 1 on h2, rank 0 on h1, from the
# environment; sets rank0_pid and rank1_pid: the loom processes, since
# on.sh, started here in the background (not through a function, which
# would fork a subshell), execs them. Logs in RUN.rank0.log and RUN.rank1.log.
start_env_ranks() {
  local run=$1
  shift
  local -a common=(WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=h1 MASTER_PORT=29400)
  "$hosts_dir/on.sh" "$state" h2 env "${common[@]}" RANK=1 "$loom" train run.yaml --no-progress-bar \
    --set run.name="$run" "$@" >"$run.rank1.log" 2>&1 &
  rank1_pid=$!
  "$hosts_dir/on.sh" "$state" h1 env "${common[@]}" RANK=0 "$loom" train run.yaml --no-progress-bar \
    --set run.name="$run" "$@" >"$run.rank0.log" 2>&1 &
  rank0_pid=$!
}

# run_mpirun RUN [--set ...]: mpirun on h1 starting one rank on each host
# over ssh, TCP on eth0 only; in the background, mpirun_pid, RUN.log.
start_mpirun() {
  local run=$1
  shift
  "$hosts_dir/on.sh" "$state" h1 mpirun --allow-run-as-root --hostfile "$state/hostfile" -np 2 --bind-to none \
    --mca plm_rsh_agent "ssh -F $state/ssh_config" \
    --mca btl self,tcp --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 \
    "$loom" train run.yaml --no-progress-bar --set run.name="$run" "$@" >"$run.log" 2>&1 &
  mpirun_pid=$!
}

# reap PID: waits for PID (a child of this shell, so not in a command
# substitution) and sets reaped to its exit code.
reap() {
  reaped=0
  wait "$1" || reaped=$?
}

# same_losses RUN: every step's loss in RUN equals the reference's (1e-5).
same_losses() {
  local compared
  compared=$(compare_losses runs/reference/metrics.jsonl "runs/$1/metrics.jsonl" "$resume_iters") ||
    fail "$1's losses differ from the reference's: $compared"
  elapsed "$1: $compared"
}

same_weights() {
  "$loom" export "runs/$1" --out "export-$1" >/dev/null 2>&1 || fail "export of $1 failed"
  [[ -d export-reference ]] || "$loom" export runs/reference --out export-reference >/dev/null 2>&1
  local compared
  compared=$(/usr/bin/python3 "$source_dir/tests/cluster/compare_weights.py" \
    export-reference "export-$1" 1e-5 2>&1) || fail "$1's weights differ: $compared"
  elapsed "$1: weights: $compared"
}

expect_placement() {
  grep -q "data parallel over 2 ranks ($2) on h1 (rank 0), h2 (rank 1)" "$1" ||
    fail "$1 does not place rank 0 on h1 and rank 1 on h2: $(grep 'data parallel' "$1")"
}

# expect_lost LOG PATTERN: LOG has the lost-peer error matching PATTERN.
expect_lost() {
  grep -q "error: $2" "$1" || fail "$1 does not say '$2': $(tail -n 3 "$1")"
}

# A fault run: trains far past resume_iters (the schedule ends at step 200,
# so the longer run's steps are the same), checkpoints every 40 steps;
# the fault comes once step 100 is logged.
fault_args=(--set train.max_iters=100000 --set "dist.timeout=$timeout_s")

# after_fault RUN LAUNCH: nothing of the run left on either host, then the
# same launch (env or mpirun) to resume_iters resumes from a checkpoint
# past step 0 and matches the reference.
after_fault() {
  local run=$1 launch=$2 log
  wait_until 10 "every loom process of $run ended" no_loom_left
  local latest
  latest=$(cat "runs/$run/checkpoints/latest") || fail "$run has no latest checkpoint"
  elapsed "$run: latest checkpoint $latest"
  local file
  for file in "$run".*log; do mv "$file" "${file%.log}.fault.log"; done
  if [[ $launch == env ]]; then
    start_env_ranks "$run" --set dist.timeout=$timeout_s
    local code0 code1
    reap "$rank0_pid"
    code0=$reaped
    reap "$rank1_pid"
    code1=$reaped
    [[ $code0 == 0 && $code1 == 0 ]] ||
      fail "the resumed $run exited $code0 and $code1: $(tail -n 3 "$run.rank0.log")"
    log=$run.rank0.log
  else
    start_mpirun "$run" --set dist.timeout=$timeout_s
    local code
    reap "$mpirun_pid"
    code=$reaped
    [[ $code == 0 ]] || fail "the resumed $run (mpirun) exited $code: $(tail -n 5 "$run.log")"
    log=$run.log
  fi
  grep -q "resuming .* at step $((10#${latest#step-})) of $resume_iters" "$log" ||
    fail "$run did not resume from $latest: $(grep -m1 -e resuming -e 'training into' "$log")"
  same_losses "$run"
}

# seconds_since START: wall seconds since START ($EPOCHREALTIME), 0.01 s.
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

case $case_name in
mpirun)
  start_mpirun mpirun
  reap "$mpirun_pid"
  code=$reaped
  [[ $code == 0 ]] || fail "mpirun across hosts exited $code: $(tail -n 20 mpirun.log)"
  expect_placement mpirun.log mpi
  same_losses mpirun
  same_weights mpirun
  ;;
env)
  start_env_ranks env --set dist.interface=eth0
  reap "$rank0_pid"
  code0=$reaped
  reap "$rank1_pid"
  code1=$reaped
  [[ $code0 == 0 && $code1 == 0 ]] || fail "ranks exited $code0 and $code1: $(tail -n 5 env.rank0.log)"
  expect_placement env.rank0.log gloo
  same_losses env
  same_weights env
  ;;
kill)
  start_env_ranks kill "${fault_args[@]}"
  wait_until 60 "kill reached step 100" reached_step kill 100
  kill -KILL "$rank1_pid"
  t0=$EPOCHREALTIME
  reap "$rank0_pid"
  code0=$reaped
  took=$(seconds_since "$t0")
  elapsed "rank 1 killed on h2: rank 0 on h1 exited $code0 after $took s"
  [[ $code0 == 5 ]] || fail "rank 0 exited $code0, not 5: $(tail -n 3 kill.rank0.log)"
  awk -v t="$took" 'BEGIN { exit !(t < 3) }' || fail "rank 0 took $took s to notice a killed peer"
  expect_lost kill.rank0.log "lost rank 1 on host h2: its connection closed without a goodbye"
  wait "$rank1_pid" || true
  after_fault kill env
  ;;
kill-mpirun)
  start_mpirun killm "${fault_args[@]}"
  wait_until 60 "killm reached step 100" reached_step killm 100
  victim=$(loom_pids h2)
  [[ -n $victim ]] || fail "no loom rank runs on h2"
  kill -KILL "$victim"
  t0=$EPOCHREALTIME
  reap "$mpirun_pid"
  code=$reaped
  took=$(seconds_since "$t0")
  elapsed "rank 1 killed on h2: mpirun on h1 exited $code after $took s"
  [[ $code != 0 ]] || fail "mpirun exited 0 after a rank was killed"
  awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "mpirun took $took s to end"
  expect_lost killm.log "lost rank 1 on host h2: its connection closed without a goodbye"
  after_fault killm mpirun
  ;;
link)
  start_env_ranks link "${fault_args[@]}"
  wait_until 60 "link reached step 100" reached_step link 100
  "$hosts_dir/link.sh" "$state" h2 down
  t0=$EPOCHREALTIME
  reap "$rank0_pid"
  code0=$reaped
  took0=$(seconds_since "$t0")
  reap "$rank1_pid"
  code1=$reaped
  took1=$(seconds_since "$t0")
  elapsed "h2's link down: rank 0 (h1) exited $code0 after $took0 s, rank 1 (h2) $code1 after $took1 s"
  "$hosts_dir/link.sh" "$state" h2 up
  [[ $code0 == 5 && $code1 == 5 ]] || fail "the ranks exited $code0 and $code1, not 5 and 5"
  for took in "$took0" "$took1"; do
    awk -v t="$took" -v limit=$((timeout_s + 5)) 'BEGIN { exit !(t < limit) }' ||
      fail "a rank took $took s to give up on a cut-off peer (dist.timeout $timeout_s s)"
  done
  expect_lost link.rank0.log "lost rank 1 on host h2: nothing from it for $timeout_s s"
  expect_lost link.rank1.log "lost rank 0 on host h1: nothing from it for $timeout_s s"
  after_fault link env
  ;;
freeze)
  start_env_ranks freeze "${fault_args[@]}"
  wait_until 60 "freeze reached step 100" reached_step freeze 100
  mapfile -t frozen < <(ip netns pids "$tag-h2")
  kill -STOP "${frozen[@]}"
  t0=$EPOCHREALTIME
  reap "$rank0_pid"
  code0=$reaped
  took0=$(seconds_since "$t0")
  elapsed "h2 frozen: rank 0 (h1) exited $code0 after $took0 s"
  kill -CONT "${frozen[@]}"
  t1=$EPOCHREALTIME
  reap "$rank1_pid"
  code1=$reaped
  took1=$(seconds_since "$t1")
  elapsed "h2 thawed: rank 1 (h2) exited $code1 after $took1 s"
  [[ $code0 == 5 && $code1 == 5 ]] || fail "the ranks exited $code0 and $code1, not 5 and 5"
  awk -v t="$took0" -v limit=$((timeout_s + 5)) 'BEGIN { exit !(t < limit) }' ||
    fail "rank 0 took $took0 s to give up on a frozen peer (dist.timeout $timeout_s s)"
  awk -v t="$took1" 'BEGIN { exit !(t < 3) }' || fail "the thawed rank took $took1 s to end"
  expect_lost freeze.rank0.log "lost rank 1 on host h2: nothing from it for $timeout_s s"
  expect_lost freeze.rank1.log "rank 0 lost this rank (rank 1 on host h2)"
  after_fault freeze env
  ;;
*)
  fail "no case '$case_name' (mpirun, env, kill, kill-mpirun, link, freeze)"
  ;;
esac
elapsed "$case_name: passed"
