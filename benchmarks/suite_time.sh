#!/usr/bin/env bash
# The README's test command on a fresh clone, timed: clones this repository's HEAD into a new private folder
# (mode 0700, as `mktemp -d` makes it; as root this is also the grading-in-a-private-folder case), runs
# `python3 run.py test` there (set-up included: a new .venv, pip's cache as it is on this machine) and prints
# one line for benchmarks/suite_time.md: the wall time and the CPU seconds the run used (its own and those of the
# processes it waited for: on 2 cores, the wall time cannot go below half of that), and the whole machine's busy
# CPU seconds meanwhile (from /proc/stat: it also counts the grading kernels, which run in sandboxes that no
# process of the run waits for; on an idle machine, nothing else). Optional: environment
# variables to set for the run, e.g.
#     bash benchmarks/suite_time.sh OPENBLAS_CORETYPE=Prescott
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/course"
cd "$work/course"
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat 2>/dev/null || echo 0; }  # user nice system irq softirq
ticks=$(getconf CLK_TCK)
busy_before=$(busy)
SECONDS=0
status=0
TIMEFORMAT='%U %S'  # the CPU time of the run and of every process it waited for (kernels, grading, browser)
{ time env "$@" python3 run.py test > "$work/log" 2>&1 || status=$?; } 2> "$work/cpu"
wall=$SECONDS
machine=$(( ($(busy) - busy_before) / ticks ))
cpu=$(awk '{printf "%.0f", $1 + $2}' "$work/cpu")
setup=$(grep -o 'set-up done in [0-9]* s' "$work/log" || echo "set-up done in ? s")
summary=$(grep -E '^=+ .*(passed|failed).* in [0-9.]+s' "$work/log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//')
printf '| %s | %s | %s | %s s (CPU %s s, machine %s s) | %s | exit %s |\n' "$(date -u +%Y-%m-%d)" \
    "$(git rev-parse --short HEAD)" "${*:-defaults}" "$wall" "$cpu" "$machine" "$setup; $summary" "$status"
grep -A8 ' time budget ' "$work/log" || true
grep -A16 'slowest 15 durations' "$work/log" || true
if [ "$status" != 0 ]; then  # the whole log outlives the clone: a failure on a fresh clone may not repeat
    cp "$work/log" "${TMPDIR:-/tmp}/suite_time_failed.log"
    echo "the whole log: ${TMPDIR:-/tmp}/suite_time_failed.log"
    grep -E '^(FAILED|ERROR) ' "$work/log" || true
fi
exit "$status"
