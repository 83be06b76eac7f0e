// The benchmark (README: Performance): pidwarden against the shell way, side by side, in one run.
// Run through `npm run bench` (scripts/bench.sh), which starts the private engine and images first.
// Prints a table with ratios and each target as met or not, and writes the figures as JSON.
// One scenario a file in scripts/bench/:
//   a. cleanup of a 150-tree storm (451 processes) in twin containers, against shell-cleanup.sh
//   b. audit of 30 and of 200 containers, both routes, against shell-audit.sh
//   c. monitor on 30 and on 200 healthy containers: CPU per container-cycle, peak RSS, growth
//   d. time from the start of a 180-process storm to healthy under monitor --interval 1
//   e. the floor: an empty compiled Bun binary, the four packages alone
//   f. one container with 500 and one with 5,000 processes: audit, explain, cleanup per process
//   g. a 10-minute monitor soak with churn: RSS after the first minute against RSS at the end
//   h. the monitor's peak RSS, row by row: what each build choice is worth
//   `npm run bench -- g` runs only the scenarios named by their letters.
//   PIDWARDEN_BENCH_QUICK=1: fewer containers, smaller storms, shorter runs (not comparable to targets).
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DOCKER_HOST, env, LABEL, OUT, printTable, QUICK, removeContainers, results } from './bench/common.ts';
import { benchAudit } from './bench/audit.ts';
import { benchCleanup } from './bench/cleanup-storm.ts';
import { startMany } from './bench/containers.ts';
import { benchFloor } from './bench/floor.ts';
import { benchMonitorIdle } from './bench/monitor-idle.ts';
import { benchMonitorRss } from './bench/monitor-rss.ts';
import { benchScale, scaleRatioRows } from './bench/scale-procs.ts';
import { benchSoak } from './bench/soak.ts';
import { benchStormToHealthy } from './bench/storm-to-healthy.ts';

if (!DOCKER_HOST) {
  console.error('bench: DOCKER_HOST is not set; run it through `npm run bench`');
  process.exit(2);
}

const SMALL = QUICK ? 8 : 30;
const LARGE = QUICK ? 40 : 200;
// `npm run bench -- g` (or `-- b c`): only those scenarios, by their letter above.
const only = new Set(process.argv.slice(2));
const want = (...letters: string[]) => only.size === 0 || letters.some((l) => only.has(l));
const t0 = Date.now();
removeContainers(LABEL);
// Every run starts with an empty state file: one left by an earlier run's soak holds ~1,400
// records of removed containers, and each audit would read and rewrite all of them (parse and
// write: 15-40 ms of an audit of 30 containers, measured), a cost of that history, not of the audit.
rmSync(dirname(env.PIDWARDEN_STATE_FILE!), { recursive: true, force: true });
try {
  if (want('e')) await benchFloor();
  if (want('a')) await benchCleanup();
  if (want('b', 'c', 'h')) {
    // 30 containers, then 170 more beside them: the 200-container rows see all of them.
    const small = await startMany('bench-audit', SMALL, 'pidwarden-bench-audit=1');
    if (want('b')) benchAudit('b', small, 'pidwarden-bench-audit=1');
    if (want('c')) await benchMonitorIdle('c', SMALL, 'pidwarden-bench-audit=1');
    if (want('h')) await benchMonitorRss('pidwarden-bench-audit=1', SMALL);
    if (want('b', 'c')) {
      const more = await startMany('bench-many', LARGE - SMALL, 'pidwarden-bench-many=1');
      // Both sets under one label for the 200-container rows: the audit selects by one --label.
      if (want('b')) benchAudit('b', [...small, ...more], LABEL);
      if (want('c')) await benchMonitorIdle('c', LARGE, LABEL);
    }
    removeContainers(LABEL);
  }
  if (want('d')) await benchStormToHealthy();
  if (want('f')) {
    const s500 = await benchScale('f', QUICK ? 200 : 500);
    const s5000 = await benchScale('f', QUICK ? 1000 : 5000);
    scaleRatioRows(s500, s5000);
  }
  if (want('g')) await benchSoak();
} finally {
  removeContainers(LABEL);
}
results.benchSeconds = Math.round((Date.now() - t0) / 1000);
printTable();
const file = join(OUT, 'results.json');
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
console.log(`\nbench: ${results.benchSeconds} s; figures: ${file}`);
