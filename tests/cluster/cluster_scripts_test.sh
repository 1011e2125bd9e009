#!/usr/bin/env bash
# The cluster scripts as far as one machine without SLURM or rented nodes
# can take them. cluster/cloud/: the hostfile it writes, the exact mpirun,
# rsync and ssh commands it would run (--dry-run), usage errors, a real
# two-rank launch through launch.sh with a hostfile naming this machine,
# and stop-when-done.sh stopping only after a success (with a stop command
# that writes a file). cluster/slurm/: train.sbatch's usage errors and the
# job array sweep.sh would submit. Not covered here: ssh and rsync to real
# nodes (nowhere), and SLURM itself (slurm_requeue_test.sh).
#
#   tests/cluster/cluster_scripts_test.sh SOURCE_DIR LOOM_BINARY
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 2)) || usage
source_dir=$(cd "$1" && pwd)
loom=$(realpath "$2")
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$source_dir/tests/cluster/test_lib.sh"
[[ -x $loom ]] || fail "no loom binary at $loom"
cloud=$source_dir/cluster/cloud
slurm=$source_dir/cluster/slurm

work=$(mktemp -d /tmp/loom-cluster-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# expect STATUS EXPECTED COMMAND...: COMMAND exits STATUS and prints
# EXPECTED (stdout and stderr together), exactly. Runs with no environment
# beyond PATH and HOME, so what the scripts pass on is what the test sets.
checks=0
expect() {
  local status=$1 expected=$2
  shift 2
  local output actual=0
  output=$(env -i PATH="$PATH" HOME="$HOME" "$@" 2>&1) || actual=$?
  ((++checks))
  if [[ $actual != "$status" || $output != "$expected" ]]; then
    printf 'FAIL: %s\n  exit %s, expected %s\n  output:\n%s\n  expected:\n%s\n' \
      "$*" "$actual" "$status" "$output" "$expected" >&2
    exit 1
  fi
}

# hostfile.sh: slots from HOST:N, else --gpus; bad input named.
expect 0 $'10.0.0.11 slots=4\ngpu-b slots=2' "$cloud/hostfile.sh" --gpus 4 10.0.0.11 gpu-b:2
expect 0 "" "$cloud/hostfile.sh" --gpus 4 -o hostfile gpu-a gpu-b:2
[[ $(<hostfile) == $'gpu-a slots=4\ngpu-b slots=2' ]] || fail "hostfile.sh -o wrote: $(<hostfile)"
expect 2 "hostfile.sh: no hosts given" "$cloud/hostfile.sh" --gpus 4
expect 2 "hostfile.sh: 'gpu a' is not HOST or HOST:GPUS (a host name or address, and a positive count)" \
  "$cloud/hostfile.sh" 'gpu a'
expect 2 "hostfile.sh: --gpus must be a positive integer, got '0'" "$cloud/hostfile.sh" --gpus 0 gpu-a

# launch.sh: one rank per slot, the interface for MPI, NCCL and Gloo, the
# NCCL settings passed on.
write_corpus corpus.txt
write_run_config "$work" 30
root_flag=
((EUID != 0)) || root_flag=" --allow-run-as-root"
expect 0 "mpirun --hostfile hostfile -np 6 --wdir $work --map-by slot --bind-to none$root_flag --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 -x NCCL_SOCKET_IFNAME=eth0 -x GLOO_SOCKET_IFNAME=eth0 -x NCCL_DEBUG $loom train run.yaml --set optim.lr=1e-3" \
  env NCCL_DEBUG=INFO LOOM="$loom" "$cloud/launch.sh" --dry-run --iface eth0 hostfile run.yaml --set optim.lr=1e-3
expect 2 "launch.sh: no hostfile 'missing'" env LOOM="$loom" "$cloud/launch.sh" missing run.yaml
expect 2 "launch.sh: no config file 'missing.yaml'" env LOOM="$loom" "$cloud/launch.sh" hostfile missing.yaml

# Bad usage prints the usage block of the script's header as it stands
# there (cluster/lib/usage.sh): the synopsis and its examples, continued
# lines included.
expect 2 $'#   cluster/cloud/launch.sh [--dry-run] [--iface IF] HOSTFILE CONFIG [loom train args...]\n#   cluster/cloud/launch.sh --iface eth0 hostfile configs/gpt2_124m_bpe.yaml' \
  "$cloud/launch.sh" --iface
expect 2 $'#   cluster/cloud/stop-when-done.sh [--dry-run] [--hostfile FILE] [--save CMD] [--stop CMD] -- COMMAND [ARGS...]\n#   cluster/cloud/stop-when-done.sh --hostfile hostfile \\\n#     --save \'rsync -a runs/ /lambda/nfs/loom-runs/\' -- \\\n#     cluster/cloud/launch.sh hostfile configs/gpt2_124m_bpe.yaml' \
  "$cloud/stop-when-done.sh"

# A real launch: two ranks on this machine, named in a hostfile.
"$loom" prepare run.yaml >prepare.log || { cat prepare.log; fail "loom prepare failed"; }
echo "localhost slots=2" >local-hostfile
LOOM=$loom "$cloud/launch.sh" local-hostfile run.yaml --no-progress-bar >launch.log 2>&1 ||
  { tail -20 launch.log; fail "launch.sh with two ranks on localhost failed"; }
grep -q '^\[.*\] \[rank 0\] trained steps 1\.\.30;' launch.log || { tail -5 launch.log; fail "launch.sh: no two-rank run to step 30"; }
[[ $(step_losses runs/run/metrics.jsonl | tail -1 | cut -d' ' -f1) == 30 ]] || fail "launch.sh: metrics.jsonl does not reach step 30"

# sync.sh: the checkout to every node, a store beside it, a run back.
expect 0 "rsync -a --partial -e ssh\\ -o\\ BatchMode=yes --rsync-path=mkdir\\ -p\\ /home/u/loom\\ \\&\\&\\ rsync --exclude=/.git --exclude=/runs --exclude=/logs --exclude=/build-\\* $source_dir/ gpu-a:/home/u/loom/
rsync -a --partial -e ssh\\ -o\\ BatchMode=yes --rsync-path=mkdir\\ -p\\ $work\\ \\&\\&\\ rsync $work/corpus.h5 gpu-a:$work/
rsync -a --partial -e ssh\\ -o\\ BatchMode=yes --rsync-path=mkdir\\ -p\\ /home/u/loom\\ \\&\\&\\ rsync --exclude=/.git --exclude=/runs --exclude=/logs --exclude=/build-\\* $source_dir/ gpu-b:/home/u/loom/
rsync -a --partial -e ssh\\ -o\\ BatchMode=yes --rsync-path=mkdir\\ -p\\ $work\\ \\&\\&\\ rsync $work/corpus.h5 gpu-b:$work/" \
  "$cloud/sync.sh" push --dry-run --to /home/u/loom hostfile "$work/corpus.h5"
expect 0 "mkdir -p $source_dir/runs/run
rsync -a --partial -e ssh\\ -o\\ BatchMode=yes gpu-a:/home/u/loom/runs/run/ $source_dir/runs/run/" \
  "$cloud/sync.sh" pull --dry-run --to /home/u/loom gpu-a runs/run/
expect 2 "sync.sh: 'corpus.h5' must be an absolute path that exists" "$cloud/sync.sh" push hostfile corpus.h5

# each-node.sh: one ssh per node.
expect 0 "ssh -n -o BatchMode=yes gpu-a nvidia-smi\\ -L
ssh -n -o BatchMode=yes gpu-b nvidia-smi\\ -L" "$cloud/each-node.sh" --dry-run hostfile 'nvidia-smi -L'

# stop-when-done.sh: stops after exit 0 only, after a save that worked,
# other nodes over ssh and this one last.
expect 0 "stop-when-done.sh: stopping this node" "$cloud/stop-when-done.sh" --stop "touch $work/stopped" -- true
[[ -f stopped ]] || fail "stop-when-done.sh did not run the stop command after exit 0"
rm stopped
expect 3 "stop-when-done.sh: 'sh -c exit 3' exited with 3; the nodes stay up" \
  "$cloud/stop-when-done.sh" --stop "touch $work/stopped" -- sh -c 'exit 3'
expect 1 "stop-when-done.sh: saving: false
stop-when-done.sh: the save command failed; the nodes stay up" \
  "$cloud/stop-when-done.sh" --save false --stop "touch $work/stopped" -- true
[[ ! -f stopped ]] || fail "stop-when-done.sh stopped a node after a failure"
printf '%s\n' "gpu-a slots=4" "localhost slots=2" >mixed-hostfile
expect 0 "stop-when-done.sh: stopping gpu-a
ssh -n -o BatchMode=yes gpu-a sudo\\ shutdown\\ -h\\ now
stop-when-done.sh: stopping this node
bash -c sudo\\ shutdown\\ -h\\ now" "$cloud/stop-when-done.sh" --dry-run --hostfile mixed-hostfile -- true

# train.sbatch, run outside SLURM: what it needs, said before anything runs.
expect 2 "train.sbatch: no config: sbatch train.sbatch CONFIG [loom train args...] (or set LOOM_CONFIG)" \
  env LOOM="$loom" bash "$slurm/train.sbatch"
expect 2 "train.sbatch: no config file 'missing.yaml' (relative paths start at $work)" \
  env LOOM="$loom" bash "$slurm/train.sbatch" missing.yaml
expect 2 "train.sbatch: LAUNCHER must be mpirun or srun, got 'pdsh'" \
  env LOOM="$loom" LAUNCHER=pdsh bash "$slurm/train.sbatch" run.yaml
expect 2 "train.sbatch: LOOM_SWEEP_FILE is set but this is not an array job" \
  env LOOM="$loom" LOOM_SWEEP_FILE=lr.sweep bash "$slurm/train.sbatch" run.yaml

# sweep.sh: a line per task, comments and blank lines skipped, run names
# given unless a line has its own.
printf '%s\n' "# learning rates" "optim.lr=1e-3 model.dropout=0.2" "" "optim.lr=3e-4  # slower" \
  "run.name=slow optim.lr=1e-4" >lr.sweep
expect 0 "optim.lr=1e-3 model.dropout=0.2 run.name=lr-0
optim.lr=3e-4 run.name=lr-1
run.name=slow optim.lr=1e-4
LOOM_SWEEP_FILE=logs/lr-sweep-DATE.txt sbatch --array=0-2%2 --job-name=lr --output=logs/%x-%A_%a.out --time=1:00:00 $slurm/train.sbatch run.yaml" \
  "$slurm/sweep.sh" --name lr --max-running 2 --dry-run lr.sweep run.yaml --time=1:00:00
printf '%s\n' "optim.lr=1e-3" "optim.lr" >bad.sweep
expect 2 "sweep.sh: bad.sweep:2: 'optim.lr' is not SECTION.KEY=VALUE" "$slurm/sweep.sh" bad.sweep run.yaml
printf '%s\n' "# nothing" >empty.sweep
expect 2 "sweep.sh: empty.sweep holds no runs" "$slurm/sweep.sh" empty.sweep run.yaml

echo "PASS: $checks checks and a two-rank launch"
