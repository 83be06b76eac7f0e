#!/usr/bin/env bash
# The shell way, written down faithfully so the benchmark can race it against pidwarden: what our
# users ran by hand when a container filled up (see the brief). Host-side `docker exec <c> ps`,
# awk to find duplicates, one `docker exec <c> kill <pid>` per process, then the oldest, then every
# `npm exec`, then `docker restart`. It kills the `npm exec` processes only, as those scripts did
# (no tree walk in awk), so their `sh -c`/`node` children are left behind.
#
#   scripts/shell-cleanup.sh CONTAINER [MAX_PROCS]
# Prints "restart" on its last line when it had to restart the container, else "healthy".
set -uo pipefail
c=$1
max=${2:-15}

count() { docker exec "$c" ps -o pid | awk 'NR > 1' | wc -l; }
healthy() { [ "$(count)" -le "$max" ]; }
npm_rows() { docker exec "$c" ps -o pid,args | awk 'NR > 1 && $2 == "npm" && $3 == "exec"'; }
kill_each() { for pid in "$@"; do docker exec "$c" kill "$pid" >/dev/null 2>&1; done; }

healthy && { echo healthy; exit 0; }

# 1. duplicates: every pid of a repeated command line but the newest (highest pid)
dups=$(npm_rows | awk '{ pid = $1; $1 = ""; if ($0 in last) print last[$0]; last[$0] = pid }')
[ -n "$dups" ] && kill_each $dups
sleep 1
healthy && { echo healthy; exit 0; }

# 2. the oldest (lowest pid) first, one at a time, until few enough
for pid in $(npm_rows | sort -n | awk '{ print $1 }'); do
  kill_each "$pid"
  healthy && { echo healthy; exit 0; }
done

# 3. every npm exec
all=$(npm_rows | awk '{ print $1 }')
[ -n "$all" ] && kill_each $all
sleep 1
healthy && { echo healthy; exit 0; }

# 4. restart
docker restart "$c" >/dev/null
echo restart
