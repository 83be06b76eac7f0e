#!/usr/bin/env bash
# The suite N times in a row, as CI runs it (`npm ci && npm test`, CI=true), beside a job that keeps
# one core busy: the "passes five runs in a row while another job loads it" check of the README's
# test lanes. Stops at the first failing run. One line per run in .tmp/repeat-suite/log, each run's
# output in .tmp/repeat-suite/run-<i>.out.
#   bash scripts/repeat-suite.sh [N]      # default 5; ~30 minutes a run on 2 cores
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-5}
OUT=.tmp/repeat-suite
mkdir -p "$OUT"
export CI=true
# the other job: one CPU-bound process for the whole time (half of a 2-core machine)
(while :; do :; done) &
LOAD=$!
trap 'kill "$LOAD" 2>/dev/null' EXIT
for ((i = 1; i <= N; i++)); do
  t0=$(date +%s)
  echo "run $i start $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/log"
  { npm ci && npm test; } >"$OUT/run-$i.out" 2>&1
  rc=$?
  echo "run $i exit $rc in $(($(date +%s) - t0)) s; $(grep -E '^(lane |tests:)' "$OUT/run-$i.out" | tr '\n' ';')" >>"$OUT/log"
  ((rc == 0)) || exit "$rc"
done
echo "$N runs in a row passed" >>"$OUT/log"
