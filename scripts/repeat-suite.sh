#!/usr/bin/env bash
# The suite N times in a row, as CI runs it (`npm ci && npm test`, CI=true), beside a job that keeps
# one core busy: the "passes five runs in a row while another job loads it" check of the README's
# test lanes. Stops at the first failing run. One line per run in .tmp/repeat-suite/log, each run's
# output in .tmp/repeat-suite/run-<commit>-<i>.out.
#   bash scripts/repeat-suite.sh [N] [--until HH:MM] [--load busy|none]
# N defaults to 5; a run takes 45-56 minutes on 2 cores beside the load, so five take longer than
# one working session. Hence the count is kept per commit in .tmp/repeat-suite/streak-<commit>
# (passed runs in a row of that commit, reset to 0 by a failure), and a later call in the same
# clean checkout of the same commit goes on from there until N are reached. A run counts only if
# the checkout was that commit, unchanged, before and after it. A run stopped in the middle
# (Ctrl-C, SIGTERM) resets the count: it might have failed. --until (UTC; a time already past
# today means tomorrow) therefore starts no run that the longest run so far (at first 3400 s, the
# longest measured) would carry past that time, and exits 75 (paused) instead of 0 (N passed).
# --load none leaves out the busy job, for a series whose load is another job, e.g. a second
# series in another clone (README: The two commands).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly PAUSED=75
usage() { echo "usage: scripts/repeat-suite.sh [N] [--until HH:MM] [--load busy|none]" >&2; exit 2; }
N=5 UNTIL="" LOAD_KIND=busy
while (($#)); do
  case "$1" in
    --until)
      (($# >= 2)) || usage
      UNTIL=$(date -u -d "$2" +%s) || usage
      # a bare time of day already past is tomorrow's (a series started at 22:00 --until 02:00)
      ((UNTIL > $(date +%s))) || UNTIL=$((UNTIL + 86400))
      shift 2 ;;
    --load)
      (($# >= 2)) && [[ "$2" == busy || "$2" == none ]] || usage
      LOAD_KIND=$2
      shift 2 ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || usage; N=$1; shift ;;
  esac
done
OUT=.tmp/repeat-suite
mkdir -p "$OUT"
COMMIT=$(git rev-parse HEAD)
SHORT=${COMMIT:0:7}
# a run counts for a commit only when the checkout is that commit, unchanged (untracked files too:
# a new test file would run without being part of it)
unchanged() { [[ "$(git rev-parse HEAD)" == "$COMMIT" && -z "$(git status --porcelain)" ]]; }
if ! unchanged; then
  echo "the checkout has changes: a series counts only for a commit as committed" >&2
  exit 2
fi
STREAK_FILE="$OUT/streak-$COMMIT"
streak=$(cat "$STREAK_FILE" 2>/dev/null || true)
[[ "$streak" =~ ^[0-9]+$ ]] || streak=0
longest=3400
job=""
running=""
export CI=true
LOAD=""
if [[ $LOAD_KIND == busy ]]; then
  # the other job: one CPU-bound process for the whole time (half of a 2-core machine)
  (while :; do :; done) &
  LOAD=$!
fi
trap '[[ -z "$LOAD" ]] || kill "$LOAD" 2>/dev/null' EXIT
on_stop() {
  if [[ -n "$running" ]]; then
    echo 0 >"$STREAK_FILE"
    echo "run $running interrupted: the count of $SHORT is 0 again" >>"$OUT/log"
    # the run is its own process group (set -m below): stop all of it, test.sh cleans its engines
    kill -TERM -- "-$job" 2>/dev/null
    wait "$job" 2>/dev/null
  fi
  exit 143
}
trap on_stop INT TERM
while ((streak < N)); do
  if [[ -n "$UNTIL" ]] && (($(date +%s) + longest > UNTIL)); then
    echo "paused at $streak of $N for commit $SHORT: the next run would end after --until" >>"$OUT/log"
    exit "$PAUSED"
  fi
  i=$((streak + 1))
  t0=$(date +%s)
  echo "run $i start $(date -u +%FT%TZ) commit $SHORT load $(cut -d' ' -f1-3 /proc/loadavg) ($LOAD_KIND)" >>"$OUT/log"
  running=$i
  set -m
  { npm ci && npm test; } >"$OUT/run-$SHORT-$i.out" 2>&1 &
  job=$!
  set +m
  wait "$job"
  rc=$?
  running=""
  took=$(($(date +%s) - t0))
  ((took <= longest)) || longest=$took
  echo "run $i exit $rc in $took s; $(grep -E '^(lane |tests:)' "$OUT/run-$SHORT-$i.out" | tr '\n' ';')" >>"$OUT/log"
  if ((rc != 0)); then
    echo 0 >"$STREAK_FILE"
    exit "$rc"
  fi
  if ! unchanged; then
    echo 0 >"$STREAK_FILE"
    echo "run $i not counted: the checkout changed during it; the count of $SHORT is 0 again" >>"$OUT/log"
    exit 1
  fi
  streak=$i
  echo "$streak" >"$STREAK_FILE"
done
echo "$N runs in a row passed at commit $SHORT" >>"$OUT/log"
