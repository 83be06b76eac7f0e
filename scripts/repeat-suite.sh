#!/usr/bin/env bash
# The suite N times in a row, as CI runs it (`npm ci && npm test`, CI=true), beside a job that keeps
# one core busy: the "passes five runs in a row while another job loads it" check of the README's
# test lanes. Stops at the first failing run. One line per run in .tmp/repeat-suite/log, each run's
# output in .tmp/repeat-suite/run-<i>.out.
#   bash scripts/repeat-suite.sh [N] [--until HH:MM]
# N defaults to 5; a run takes 45-56 minutes on 2 cores beside the load, so five take longer than
# one working session. Hence the count is kept per commit in .tmp/repeat-suite/streak-<commit>
# (passed runs in a row of that commit, reset to 0 by a failure), and a later call in the same
# clean checkout of the same commit goes on from there until N are reached. A run stopped in the
# middle (Ctrl-C, SIGTERM) resets the count: it might have failed. --until (UTC) therefore starts
# no run that the longest run so far (at first 3400 s, the longest measured) would carry past
# that time: the series is paused between runs instead.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=5 UNTIL=""
while (($#)); do
  case "$1" in
    --until) UNTIL=$(date -u -d "$2" +%s) || exit 2; shift 2 ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || { echo "usage: scripts/repeat-suite.sh [N] [--until HH:MM]" >&2; exit 2; }; N=$1; shift ;;
  esac
done
OUT=.tmp/repeat-suite
mkdir -p "$OUT"
# a run counts for a commit only when the checkout is that commit, unchanged
if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
  echo "the checkout has changes: a series counts only for a commit as committed" >&2
  exit 2
fi
COMMIT=$(git rev-parse --short HEAD)
STREAK_FILE="$OUT/streak-$COMMIT"
streak=$(cat "$STREAK_FILE" 2>/dev/null || echo 0)
longest=3400
running=""
export CI=true
# the other job: one CPU-bound process for the whole time (half of a 2-core machine)
(while :; do :; done) &
LOAD=$!
trap 'kill "$LOAD" 2>/dev/null' EXIT
on_stop() {
  [[ -z "$running" ]] || { echo 0 >"$STREAK_FILE"; echo "run $running interrupted: the count of $COMMIT is 0 again" >>"$OUT/log"; }
  exit 143
}
trap on_stop INT TERM
while ((streak < N)); do
  if [[ -n "$UNTIL" ]] && (($(date +%s) + longest > UNTIL)); then
    echo "paused at $streak of $N for commit $COMMIT: the next run would end after --until" >>"$OUT/log"
    exit 0
  fi
  i=$((streak + 1))
  t0=$(date +%s)
  echo "run $i start $(date -u +%FT%TZ) commit $COMMIT load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/log"
  running=$i
  { npm ci && npm test; } >"$OUT/run-$COMMIT-$i.out" 2>&1 &
  wait $!
  rc=$?
  running=""
  took=$(($(date +%s) - t0))
  ((took <= longest)) || longest=$took
  echo "run $i exit $rc in $took s; $(grep -E '^(lane |tests:)' "$OUT/run-$COMMIT-$i.out" | tr '\n' ';')" >>"$OUT/log"
  if ((rc != 0)); then
    echo 0 >"$STREAK_FILE"
    exit "$rc"
  fi
  streak=$i
  echo "$streak" >"$STREAK_FILE"
done
echo "$N runs in a row passed at commit $COMMIT" >>"$OUT/log"
