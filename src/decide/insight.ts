// Pure: what audit and explain say beyond the counts, in the same words: the pids limit's verdict,
// the growth and its forecast, and the notes an operator needs to fix the cause (threads rather
// than processes fill the limit; zombies and PID 1 without an init).
import type { ContainerRecord, SampleRow } from '../state/state-file.ts';
import type { PidsReading, Proc } from '../types.ts';
import { forecastWarning, growthLine, growthOver, WINDOWS_MS, type Growth, type Sample } from './growth.ts';
import { judgeLimit, type Limit } from './limits.ts';
import type { PidsLimitReading } from '../observe/pids-limits.ts';
import type { ContainerObservation } from '../observe/observation.ts';
import type { Assessment } from './classify.ts';

export interface InsightInput {
  procs: Proc[] | null;
  pids: PidsReading;
  limits: PidsLimitReading | null | undefined;
  configured: number | null;
  init: boolean;
  enforceable: boolean | null;
  maxProcs: number;
  trees: number | null;
  zombies: number;
  /** This container's record in the state file, before this observation's sample. */
  record: ContainerRecord | undefined;
  nowMs: number;
  warnWithinS: number;
}

export interface Insight {
  limit: Limit;
  /** The 1-hour window when it has a forecast, else the 6-hour one (null: no samples at all). */
  growth: Growth;
  /** Both windows, shortest first, for the plain line. */
  windows: Growth[];
  /** Reasons that make the container at least `warn`. */
  warnings: string[];
  /** Plain lines that explain, without changing the status. */
  notes: string[];
  /** This observation as a state-file sample. */
  sample: SampleRow;
}

/** A Node process has ~11 threads: tasks at least twice the processes means threads dominate. */
const THREADS_DOMINATE = 2;

export function insightOf(i: InsightInput): Insight {
  const processes = i.procs?.length ?? null;
  const limit = judgeLimit(
    {
      configured: i.configured,
      inForce: i.limits ? i.limits.inForce : i.pids.max,
      heldBy: i.limits?.heldBy ?? null,
      shared: i.limits?.shared ?? null,
      enforceable: i.enforceable,
      forksRefused: i.limits?.forksRefused ?? null,
      peak: i.limits?.peak ?? null,
      current: i.pids.current,
    },
    i.record?.forksRefused,
  );
  const sample: SampleRow = [i.nowMs, processes, i.trees, i.pids.current];
  const samples: Sample[] = [...(i.record?.samples ?? []), sample].map(([t, p, tr, ta]) => ({ t, processes: p, trees: tr, tasks: ta }));
  const figures = { maxProcs: i.maxProcs, pidsMax: limit.inForce, processes, tasks: i.pids.current };
  const windows = WINDOWS_MS.map((w) => growthOver(samples, i.nowMs, w, figures));
  const growth = windows.find((g) => g.perHour !== null) ?? windows[0]!;

  const warnings: string[] = [];
  if (limit.verdict === 'hit' || limit.verdict === 'below-current' || limit.verdict === 'not-in-force') warnings.push(limit.line);
  const forecast = forecastWarning(growth, i.warnWithinS);
  if (forecast) warnings.push(forecast);

  const notes: string[] = [];
  const line = windows.map(growthLine).filter((l): l is string => l !== null);
  if (line.length > 0) notes.push(`growth: ${line.join('; ')}`);
  const tasks = i.pids.current;
  if (processes !== null && processes > 0 && tasks !== null && tasks >= THREADS_DOMINATE * processes && limit.inForce !== null && tasks * 2 >= limit.inForce) {
    notes.push(`threads, not processes, fill the limit: ${processes} processes hold ${tasks} of ${limit.inForce} tasks (pids.current counts every thread; a Node process has ~11)`);
  }
  if (i.zombies > 0) {
    const pid1 = i.procs?.find((p) => p.pid === 1);
    const who = pid1 ? `PID 1 is \`${pid1.command}\`` : 'PID 1 is unknown';
    notes.push(
      i.init
        ? `${i.zombies} zombie${i.zombies === 1 ? '' : 's'}: the container has an init as PID 1, so their own parents are not reaping them`
        : `${i.zombies} zombie${i.zombies === 1 ? '' : 's'}: ${who} and the container has no init (HostConfig.Init false); fix: \`init: true\` in compose, or \`docker run --init\``,
    );
  }
  return { limit, growth, windows, warnings, notes, sample };
}

/** insightOf for one observation and its assessment: what audit, explain and top all compute. */
export function insightOfObservation(
  obs: ContainerObservation,
  a: Assessment,
  o: { maxProcs: number; enforceable: boolean | null; record: ContainerRecord | undefined; nowMs: number; warnWithinS: number },
): Insight {
  return insightOf({
    procs: obs.table?.procs ?? null,
    pids: obs.pids,
    limits: obs.limits,
    configured: obs.info.pidsLimit ?? null,
    init: obs.info.init === true,
    trees: obs.table ? a.trees.length : null,
    zombies: a.zombies,
    ...o,
  });
}

/** The assessment with the insight's warnings among its reasons: at least `warn` (paused stays paused). */
export function withWarnings(a: Assessment, insight: Insight): Assessment {
  if (insight.warnings.length === 0 || a.status === 'paused') return a;
  return { ...a, reasons: [...a.reasons, ...insight.warnings], status: a.status === 'ok' ? 'warn' : a.status };
}
