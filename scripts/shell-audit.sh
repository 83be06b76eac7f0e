#!/usr/bin/env bash
# The shell way to audit, for the benchmark: `docker stats --no-stream` once, then `docker exec ps`
# in every running container, counting processes and duplicate `npm exec` lines with awk.
#   scripts/shell-audit.sh [CONTAINER...]   (default: every running container)
set -uo pipefail
if [ $# -gt 0 ]; then containers=("$@"); else mapfile -t containers < <(docker ps -q); fi
docker stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' "${containers[@]}"
for c in "${containers[@]}"; do
  docker exec "$c" ps -o pid,args |
    awk -v c="$c" 'NR > 1 { n++ } $2 == "npm" && $3 == "exec" { m++; $1 = ""; seen[$0]++ }
      END { d = 0; for (k in seen) if (seen[k] > 1) d += seen[k] - 1; printf "%s procs=%d npm=%d dups=%d\n", c, n, m, d }'
done
