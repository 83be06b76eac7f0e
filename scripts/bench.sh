#!/usr/bin/env bash
# `npm run bench`: the benchmark (scripts/bench.ts, one scenario a file in scripts/bench/) against the
# private engine that the test suite uses: packages, engine, workload, dist/pidwarden and images are set up by
# scripts/test.sh and torn down after. Prints a table; figures in .tmp/bench/results.json.
#   PIDWARDEN_BENCH_QUICK=1 npm run bench   # smaller and shorter, for a quick look
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash scripts/test.sh --run node_modules/.bin/bun scripts/bench.ts "$@"
