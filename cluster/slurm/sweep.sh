#!/usr/bin/env bash
# Submits a sweep as one SLURM job array: one array task per line of
# SWEEP_FILE, each a train.sbatch job (signals, checkpoints, requeue and
# resume as for one run) with that line's config overrides, in a run of its
# own (run.name NAME-INDEX unless the line sets run.name).
#
#   cluster/slurm/sweep.sh [--name NAME] [--max-running N] [--dry-run] SWEEP_FILE CONFIG [sbatch options...]
#   cluster/slurm/sweep.sh lr.sweep configs/shakespeare_char.yaml --time=4:00:00 --gpus-per-node=1
#
# SWEEP_FILE: one run per line, as SECTION.KEY=VALUE overrides separated
# by spaces (`optim.lr=1e-3 model.dropout=0.1`; values hold no spaces);
# blank lines and # comments are skipped. NAME defaults to the config's file name without .yaml;
# --max-running caps the tasks running at once. The lines are copied to
# logs/NAME-sweep-DATE.txt, which the tasks read (so editing SWEEP_FILE
# does not change a sweep under way); task logs go to logs/NAME-JOB_TASK.out.
# Arguments for every run go in LOOM_ARGS (see train.sbatch). --dry-run
# prints the lines and the sbatch command and submits nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/usage.sh
source "$here/../lib/usage.sh"

fail_usage() {
  echo "sweep.sh: $*" >&2
  exit 2
}

name=
max_running=
dry_run=0
while (($#)); do
  case $1 in
    --name) (($# >= 2)) || usage; name=$2; shift 2 ;;
    --max-running) (($# >= 2)) || usage; max_running=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage ;;
    *) break ;;
  esac
done
(($# >= 2)) || usage
sweep_file=$1
config=$2
shift 2
[[ -f $sweep_file ]] || fail_usage "no sweep file '$sweep_file'"
[[ -f $config ]] || fail_usage "no config file '$config'"
[[ -z $max_running || $max_running =~ ^[1-9][0-9]*$ ]] || fail_usage "--max-running must be a positive integer, got '$max_running'"
if [[ -z $name ]]; then
  name=$(basename "$config")
  name=${name%.yaml}
  name=${name%.yml}
fi
[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || fail_usage "--name may hold letters, digits, '.', '_' and '-', got '$name'"

lines=()
line_number=0
while IFS= read -r line || [[ -n $line ]]; do
  ((++line_number))
  line=${line%%#*}
  read -ra overrides <<<"$line"
  ((${#overrides[@]})) || continue
  for override in "${overrides[@]}"; do
    [[ $override =~ ^[a-z_]+\.[a-z0-9_]+=. ]] ||
      fail_usage "$sweep_file:$line_number: '$override' is not SECTION.KEY=VALUE"
  done
  [[ " ${overrides[*]}" == *" run.name="* ]] || overrides+=("run.name=$name-${#lines[@]}")
  lines+=("${overrides[*]}")
done <"$sweep_file"
((${#lines[@]})) || fail_usage "$sweep_file holds no runs"

array=0-$((${#lines[@]} - 1))${max_running:+%$max_running}
submit=(sbatch --array="$array" --job-name="$name" --output="logs/%x-%A_%a.out" "$@")
if ((dry_run)); then
  printf '%s\n' "${lines[@]}"
  echo "LOOM_SWEEP_FILE=logs/$name-sweep-DATE.txt ${submit[*]} $here/train.sbatch $config"
  exit 0
fi

mkdir -p logs
copy=$PWD/logs/$name-sweep-$(date +%Y%m%d-%H%M%S).txt
printf '%s\n' "${lines[@]}" >"$copy"
LOOM_SWEEP_FILE=$copy "${submit[@]}" "$here/train.sbatch" "$config"
echo "sweep.sh: ${#lines[@]} runs of $config; their overrides in $copy"
