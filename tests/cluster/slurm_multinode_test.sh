#!/usr/bin/env bash
# A SLURM job across two nodes survives its time limit: two hosts of a
# local-hosts cluster (network namespaces on a bridge), munged and
# slurmctld on h1 and a slurmd on each (cluster/local-slurm/start.sh
# --hosts), and `sbatch -N 2 --ntasks-per-node=1` of
# cluster/slurm/train.sbatch with a one-minute limit and
# --signal=B:USR1@20: mpirun starts one rank on each node (its daemon on h2
# through srun), they reduce over TCP across the bridge, SLURM signals the
# batch shell before the limit, loom checkpoints and exits 3, the script
# requeues the job, and the job resumes on both nodes, as often as it
# takes to finish. Checked: every start placed rank 0 on h1 and rank 1 on
# h2; loom stopped with a checkpoint (exit 3) at least once and the next
# start resumed from that step; the job ended COMPLETED with exit code 0,
# trained to train.max_iters; and every step's loss equals, within 1e-5,
# that of the same run trained uninterrupted without SLURM by one rank
# with accumulation 2 (batch 16 in micro-batches of 8; the two ranks have
# one micro-batch of 8 each; CPU, fp32, dropout off).
#
# With CASE kill, the rank on h2 is SIGKILLed mid-job instead: rank 0
# ends (exit code 5, naming the rank and host it lost), mpirun ends with
# 137, the script does not requeue (only exit code 3 is a stop to go on
# from), and SLURM ends the job FAILED, not requeued, with both nodes idle
# again. Then `sbatch -N 1 -w h1` resumes the run from its last checkpoint
# on the node still there: elastically, one rank with accumulation 2, to
# the uninterrupted run's losses (1e-5). About 45-55 s.
#
#   tests/cluster/slurm_multinode_test.sh SOURCE_DIR LOOM_BINARY [requeue|kill]
#
# Exits 77 (ctest's skip) when not root or the packages are missing
# (slurmctld slurmd slurm-client munge, iproute2, openssh-server, Open
# MPI). The run is sized by a first, short job on both nodes (its fastest
# 100 steps, with the reference run beside it as beside the real job) to
# train at least 45 s, so that the signal, which SLURM sends 10-40 s into
# each start (it looks every 30 s), comes before the end; should the
# machine speed up after the calibration and the job end unsignalled, it
# runs once more, twice as long. About 1.5-2 minutes on two cores.
# LOOM_TEST_KEEP=1 keeps the work folder.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 2 || $# == 3)) || usage
source_dir=$(cd "$1" && pwd)
loom=$(realpath "$2")
case_name=${3:-requeue}
[[ $case_name == requeue || $case_name == kill ]] || usage
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$source_dir/tests/cluster/test_lib.sh"
train_seconds=45

((EUID == 0)) || skip "the local SLURM on local hosts needs root (namespaces, slurmd)"
for program in slurmctld slurmd sbatch squeue scontrol munged mpirun ip /usr/sbin/sshd ssh-keygen unshare nsenter; do
  command -v "$program" >/dev/null ||
    skip "no $program (apt-get install slurmctld slurmd slurm-client munge iproute2 openssh-server)"
done
[[ -x $loom ]] || fail "no loom binary at $loom"

work=$(mktemp -d /tmp/loom-slurm-multinode-test.XXXXXX)
chmod 755 "$work"
hosts=$work/hosts
slurm_state=$work/slurm
reference_pid=
job_log=
finish() {
  local code=$?
  [[ -z $reference_pid ]] || kill "$reference_pid" 2>/dev/null || true
  show_slurm_failure "$code" "$job_log" "$slurm_state"
  # SLURM first (it cancels the jobs through h1), then the hosts, which
  # takes whatever is left in their namespaces.
  "$source_dir/cluster/local-slurm/stop.sh" "$slurm_state" >/dev/null || code=1
  "$source_dir/cluster/local-hosts/stop.sh" "$hosts" >/dev/null || code=1
  remove_work "$work"
  exit "$code"
}
trap finish EXIT
cd "$work"

"$source_dir/cluster/local-hosts/start.sh" --hosts 2 "$hosts" >hosts.log 2>&1 || fail "local-hosts start.sh: $(cat hosts.log)"
"$source_dir/cluster/local-slurm/start.sh" "$slurm_state" --hosts "$hosts" >slurm.log 2>&1 ||
  fail "local-slurm start.sh --hosts: $(cat slurm.log)"
elapsed "local SLURM up on hosts h1 and h2"
# sbatch, squeue, scontrol run on h1: the controller is only on the bridge.
slurm() { "$source_dir/cluster/local-slurm/on.sh" "$slurm_state" "$@"; }

write_corpus corpus.txt
# SLURM's own job end time is not used: this test is about the signal.
write_run_config "$work" 400 "micro_batch: 8, precision: fp32, slurm_time_limit: false"
sed -i 's/dropout: 0.1/dropout: 0.0/' run.yaml
"$loom" prepare run.yaml >prepare.log 2>&1 || fail "loom prepare: $(cat prepare.log)"
mkdir -p logs

# submit NAME SBATCH_ARGS... -- TRAIN_ARGS...: train.sbatch on two nodes, one
# rank each, mpirun's TCP on the hosts' eth0 only; prints the job ID.
submit() {
  local name=$1
  shift
  local -a sbatch_args=()
  while [[ $1 != -- ]]; do sbatch_args+=("$1"); shift; done
  shift
  LOOM=$loom MPIRUN_ARGS="--mca btl self,tcp --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0" \
    slurm sbatch --parsable --job-name="$name" --nodes=2 --ntasks-per-node=1 --output="$work/logs/%x-%j.out" \
    "${sbatch_args[@]}" "$source_dir/cluster/slurm/train.sbatch" run.yaml "$@"
}

# wait_job ID SECONDS: waits until job ID has ended; sets state and exit_code.
wait_job() {
  wait_for_job_end "$2" "$1" slurm
  state=$job_state
  exit_code=$job_exit_code
}

# same_losses RUN MAX_ITERS: every step's loss in RUN within 1e-5 of the
# uninterrupted reference's.
same_losses() {
  local compared
  compared=$(compare_losses runs/reference/metrics.jsonl "runs/$1/metrics.jsonl" "$2") ||
    fail "run $1's losses across nodes differ from the uninterrupted run's: $compared"
  elapsed "all $2 losses equal the uninterrupted one-rank run's within 1e-5 (final $(step_losses "runs/$1/metrics.jsonl" | tail -1))"
}

# reached_step STEP: the job's run has logged step STEP.
reached_step() { [[ $(step_losses runs/run/metrics.jsonl 2>/dev/null | tail -n 1) =~ ^([0-9]+) ]] && ((BASH_REMATCH[1] >= $1)); }

if [[ $case_name == kill ]]; then
  max_iters=1500
  write_run_config "$work" "$max_iters" "micro_batch: 8, precision: fp32, slurm_time_limit: false"
  sed -i 's/dropout: 0.1/dropout: 0.0/; s/interval: 1000, keep_last: 2/interval: 200, keep_last: 3/' run.yaml
  "$loom" train run.yaml --set run.name=reference --no-progress-bar >reference.log 2>&1 &
  reference_pid=$!

  job_id=$(submit kill --time=5 --)
  job_log=$work/logs/kill-$job_id.out
  elapsed "submitted job $job_id"
  tag=$(<"$hosts/tag")
  victim=
  deadline=$((SECONDS + 120))
  until [[ -n $victim ]]; do
    ((SECONDS < deadline)) || fail "job $job_id did not reach step 500 with a rank on h2 within 120 s"
    sleep 0.5
    reached_step 500 || continue
    for pid in $(ip netns pids "$tag-h2"); do
      [[ $(readlink "/proc/$pid/exe" 2>/dev/null) != "$loom" ]] || victim=$pid
    done
  done
  kill -KILL "$victim"
  elapsed "killed the rank on h2 (PID $victim)"
  wait_job "$job_id" 60
  restarts=$(slurm scontrol show job "$job_id" --oneliner | sed -n 's/.* Restarts=\([0-9]*\).*/\1/p')
  elapsed "job $job_id ended $state, exit code $exit_code, restarts $restarts"
  [[ $state == FAILED && $exit_code != 0:0 && $exit_code != 3:0 && $restarts == 0 ]] ||
    fail "job $job_id ended $state with exit code $exit_code after $restarts restarts, expected FAILED, not requeued"
  grep -q "error: lost rank 1 on host h2: its connection closed without a goodbye" "$job_log" ||
    fail "rank 0 did not elapsed it lost rank 1 on h2"
  ! grep -q "requeueing job" "$job_log" || fail "train.sbatch requeued job $job_id after a lost rank"
  idle=$(slurm sinfo --noheader --Node --format=%T | grep -cx idle || true)
  [[ $idle == 2 ]] || fail "after the failed job $idle of 2 nodes are idle: $(slurm sinfo --Node)"
  latest=$(<runs/run/checkpoints/latest) || fail "no latest checkpoint after the failed job"
  latest_step=$((10#${latest#step-}))

  job_id=$(submit resume --time=5 --nodes=1 --nodelist=h1 --)
  job_log=$work/logs/resume-$job_id.out
  wait_job "$job_id" 120
  [[ $state == COMPLETED && $exit_code == 0:0 ]] || fail "job $job_id on h1 ended $state with exit code $exit_code"
  grep -q "resuming step $latest_step (written by 2 ranks) on 1 rank: .* now 2 micro-steps of 8 per rank" "$job_log" ||
    fail "job $job_id did not resume step $latest_step elastically on 1 rank: $(grep -m1 resuming "$job_log")"
  grep -q "resuming $work/runs/run at step $latest_step of $max_iters" "$job_log" || fail "job $job_id did not resume at step $latest_step"
  grep -q "trained steps [0-9]*\.\.$max_iters;" "$job_log" || fail "job $job_id did not train to step $max_iters"
  elapsed "job $job_id on h1 alone resumed from step $latest_step with accumulation 2 and finished"
  wait "$reference_pid" || fail "the reference run failed: $(tail -n 5 reference.log)"
  reference_pid=
  same_losses run "$max_iters"
  echo "PASS"
  exit 0
fi

# The reference: one rank, accumulation 2, uninterrupted, without SLURM and
# on no host of the cluster. It runs beside the jobs from here on, so that
# the calibration sees the machine as the job will; its train.max_iters is
# far off (the lr schedule ends at step 200, so a longer run's steps are
# the same), and it is stopped once it has logged the job's last step.
"$loom" train run.yaml --set run.name=reference --set train.max_iters=1000000 --no-progress-bar >reference.log 2>&1 &
reference_pid=$!

# Steps per second of this very launch: 400 steps on both nodes, and the
# fastest 100 of them (steps 101-400), so that a run sized by it trains at
# least train_seconds whatever else the machine does.
job_id=$(submit calibration --time=5 -- --set run.name=calibration)
job_log=$work/logs/calibration-$job_id.out
wait_job "$job_id" 120
[[ $state == COMPLETED && $exit_code == 0:0 ]] || fail "the calibration job $job_id ended $state with exit code $exit_code"
fastest=$(sed -n 's/.*"elapsed":\([0-9.e+-]*\),.*"loss":.*"step":\([0-9]*00\),.*/\2 \1/p' runs/calibration/metrics.jsonl |
  awk '$1 > 100 { d = $2 - previous; if (best == "" || d < best) best = d } { previous = $2 } END { print best }')
[[ -n $fastest ]] || fail "no steps 100-400 in the calibration run's metrics.jsonl"
max_iters=$(awk -v s="$fastest" -v t="$train_seconds" 'BEGIN { n = int(100 * t / s); print (n < 1000 ? 1000 : n) }')
elapsed "calibration job $job_id: the fastest 100 steps on two nodes took $fastest s: training $max_iters steps"

# The job. Should the machine get faster than it was at the calibration
# (other work on it ending) and the job finish before SLURM's signal, it
# runs once more, twice as long, into a run of its own.
run=run
for attempt in 1 2; do
  write_run_config "$work" "$max_iters" "micro_batch: 8, precision: fp32, slurm_time_limit: false"
  sed -i 's/dropout: 0.1/dropout: 0.0/' run.yaml
  job_id=$(submit multinode --time=1 --signal=B:USR1@20 -- --set run.name="$run")
  job_log=$work/logs/multinode-$job_id.out
  elapsed "submitted job $job_id: run $run, $max_iters steps"
  wait_job "$job_id" 600
  elapsed "job $job_id ended: $state"
  if ((attempt == 1)) && [[ $state == COMPLETED ]] && ! grep -q "stopped by .* a checkpoint is saved" "$job_log"; then
    elapsed "job $job_id trained all $max_iters steps before SLURM's signal: once more, twice as long"
    max_iters=$((2 * max_iters))
    run=longer
    continue
  fi
  break
done

reference_done() { [[ $(step_losses runs/reference/metrics.jsonl | tail -n 1) =~ ^([0-9]+) ]] && ((BASH_REMATCH[1] >= max_iters)); }
deadline=$((SECONDS + 300))
until reference_done; do
  kill -0 "$reference_pid" 2>/dev/null || { tail -5 reference.log; fail "the reference run ended before step $max_iters"; }
  ((SECONDS < deadline)) || fail "the reference run did not reach step $max_iters"
  sleep 1
done
kill "$reference_pid"
wait "$reference_pid" || true
reference_pid=
elapsed "the reference run reached step $max_iters"

# The job finished, with exit code 0, at train.max_iters.
[[ $state == COMPLETED && $exit_code == 0:0 ]] || fail "job $job_id ended $state with exit code $exit_code, expected COMPLETED 0:0"

# Every start ran rank 0 on h1 and rank 1 on h2, one micro-batch each.
starts=$(grep -c "^train.sbatch: .* job $job_id, restart count [0-9]*, 2 node(s) h\[1-2\], 2 task(s)\$" "$job_log" || true)
placed=$(grep -c "data parallel over 2 ranks (mpi) on h1 (rank 0), h2 (rank 1);" "$job_log" || true)
((starts >= 2 && placed == starts)) ||
  fail "$starts starts of job $job_id on nodes h[1-2] with 2 tasks, $placed with rank 0 on h1 and rank 1 on h2: $(grep -m1 'data parallel' "$job_log")"
grep -q "512 tokens per step, 1 micro-step of accumulation" "$job_log" || fail "the two ranks did not train one micro-batch each"

# Every stop wrote a checkpoint at its step, exited 3, was requeued, and the
# next start resumed at that step, again on both nodes.
check_signal_stops "$job_log" "$job_id" "$work/runs/$run" "$max_iters"
((starts == exits_3 + 1)) || fail "$exits_3 exits with code 3 and $starts starts: expected one more start"
elapsed "$starts starts on h1 and h2, stopped at steps ${stop_steps[*]} and requeued $requeues times"

same_losses "$run" "$max_iters"
echo "PASS"
