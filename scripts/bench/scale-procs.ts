// f. One container with N processes (N/3 `npm exec` trees, one thread each, a pids limit that
// fits): audit on both routes, explain, and cleanup, each with its time per process. Run at 500
// and at 5,000 processes: the per-process times of the two should be of the same order (nothing
// quadratic in processes), and a 5,000-process storm must be back under --max-procs in seconds.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, docker, env, figures, ms, OUT, tasksCounter, results, timed, row, run, startContainer, verdict, waitFor, type RunResult } from './common.ts';

/** The default --max-procs: the limit cleanup brings the container back under. */
const LIMIT = 15;

export interface ScaleFigures {
  processes: number;
  audit: RunResult;
  auditHost: RunResult;
  explain: RunResult;
  cleanup: RunResult;
  /** From the start of cleanup until the container's processes are at most LIMIT. */
  underLimitMs: number;
}

export async function benchScale(tag: string, processes: number): Promise<ScaleFigures> {
  const name = `bench-scale-${processes}`;
  const trees = Math.round((processes - 1) / 3);
  startContainer(name, trees, { threads: '1,1,1', pidsLimit: 2 * processes });
  const n = trees * 3 + 1;
  const count = await tasksCounter(name);
  await waitFor(async () => count() >= n, 300_000, `${n} processes in ${name}`, 250);
  try {
    const audit = run([BIN, 'audit', '--json', '--container', name]);
    const auditHost = run([BIN, 'audit', '--json', '--container', name, '--proc-source', 'host']);
    const explain = run([BIN, 'explain', name]);
    const { cleanup, underLimitMs } = await timedCleanup(name, count);
    const f = { processes: n, audit, auditHost, explain, cleanup, underLimitMs };
    results[`scale${n}`] = Object.fromEntries(
      Object.entries(f).map(([k, v]) => [k, typeof v === 'object' ? { ms: v.ms, cpuMs: v.cpuMs, peakMiB: v.peakMiB, exit: v.code } : v]),
    );
    const perProc = (r: RunResult) => `${((r.ms * 1000) / n).toFixed(0)} µs/process`;
    row(`${tag}. ${n} processes: audit`, figures(audit), '', perProc(audit), 'reference');
    row('   ... audit --proc-source host', figures(auditHost), '', perProc(auditHost), 'reference');
    row('   ... explain', figures(explain), '', perProc(explain), 'reference');
    row('   ... cleanup', figures(cleanup), '', perProc(cleanup), 'reference');
    row(`   ... back under ${LIMIT} processes`, ms(underLimitMs), '', '', n > 1000 ? `seconds (<= 10 s): ${verdict(underLimitMs <= 10_000)}` : 'reference');
    return f;
  } finally {
    docker('rm', '-f', name);
  }
}

/** cleanup in the background while this process polls the container's process count. */
async function timedCleanup(name: string, count: () => number): Promise<{ cleanup: RunResult; underLimitMs: number }> {
  const log = join(OUT, `cleanup-${name}.jsonl`);
  rmSync(log, { force: true });
  const t0 = performance.now();
  const t = timed([BIN, 'cleanup', '--container', name, '--log-file', log]);
  const p = Bun.spawn(t.argv, { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  await waitFor(async () => count() <= LIMIT, 120_000, `${name} under ${LIMIT} processes`, 10);
  const underLimitMs = performance.now() - t0;
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const ms = performance.now() - t0;
  const cleanup = { code, out, err, ms, ...t.usage() };
  return { cleanup, underLimitMs };
}

/** The per-process times at the two sizes side by side: the larger over the smaller. */
export function scaleRatioRows(small: ScaleFigures, large: ScaleFigures): void {
  const per = (r: RunResult, n: number) => r.ms / n;
  const pairs: [string, RunResult, RunResult][] = [
    ['audit', small.audit, large.audit],
    ['audit --proc-source host', small.auditHost, large.auditHost],
    ['explain', small.explain, large.explain],
    ['cleanup', small.cleanup, large.cleanup],
  ];
  const ratios: Record<string, number> = {};
  for (const [what, s, l] of pairs) {
    const r = per(l, large.processes) / per(s, small.processes);
    ratios[what] = r;
    // Same order: within a factor of 3 either way (quadratic would be ~10x for 10x the processes).
    row(`   per process, ${large.processes} vs ${small.processes}: ${what}`, `${r.toFixed(2)} x`, '', '', `same order (<= 3): ${verdict(r <= 3)}`);
  }
  results.scalePerProcessRatio = ratios;
}
