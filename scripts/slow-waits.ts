// `bun scripts/slow-waits.ts [FILE]`: the test waits that took more than a quarter of their
// deadline and still made it (test/integration/harness.ts writes one line for each to
// .tmp/test-reports/slow-waits.jsonl, run after run), worst share first: the deadlines that a
// slower or busier machine would miss before the suite shows it by failing.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface SlowWait {
  file: string;
  what: string;
  elapsedMs: number;
  timeoutMs: number;
}

const path = process.argv[2] ?? join(resolve(import.meta.dir, '..'), '.tmp', 'test-reports', 'slow-waits.jsonl');
if (!existsSync(path)) {
  console.log(`no slow waits recorded (${path} does not exist)`);
} else {
  const byWait = new Map<string, { file: string; what: string; n: number; worst: number; worstMs: number; timeoutMs: number }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const w = JSON.parse(line) as SlowWait;
    const key = `${w.file}\t${w.what}`;
    const share = w.elapsedMs / w.timeoutMs;
    const cur = byWait.get(key) ?? { file: w.file, what: w.what, n: 0, worst: 0, worstMs: 0, timeoutMs: w.timeoutMs };
    cur.n++;
    if (share > cur.worst) Object.assign(cur, { worst: share, worstMs: w.elapsedMs, timeoutMs: w.timeoutMs });
    byWait.set(key, cur);
  }
  console.log('worst  times  took / deadline      where: what');
  for (const w of [...byWait.values()].sort((a, b) => b.worst - a.worst)) {
    console.log(`${(w.worst * 100).toFixed(0).padStart(4)}%  ${String(w.n).padStart(5)}  ${String(w.worstMs).padStart(6)} / ${String(w.timeoutMs).padEnd(7)}  ${w.file}: ${w.what}`);
  }
}
