// An audit's CPU % over the time since the previous audit, when there was one lately. Each audit
// keeps its last reading of every container's CPU counter in the state file (a "mark"); the next
// audit starts its window there instead of reading the counter twice 100 ms apart. For an audit
// from cron every 5 minutes that is the container's CPU over those 5 minutes, where 100 ms of a
// bursty Node app says little, and the audit waits for no window: `audit --container X
// --proc-source host` took 154 ms without a mark and 68 ms with one (medians of 10, measured). With
// many containers reading their tables already takes longer than the window (30: no difference).
// The window is in the JSON (cpuWindowSeconds).
import { CPU_MARK_MAX_AGE_MS, type CpuMark } from '../state/state-file.ts';
import { STATS_CPU_WINDOW_MS, type CpuSample } from './stats.ts';

/**
 * Pure: the mark as the start of this audit's window, or null. Only for the same run of the same
 * container (its StartedAt: a restart starts the counter again), at least one fresh window old
 * (a shorter window would say less than the fresh one), and at most CPU_MARK_MAX_AGE_MS old.
 */
export function windowStart(mark: CpuMark | undefined, startedAt: string, nowMs: number): CpuSample | null {
  if (!mark || startedAt === '' || mark[2] !== startedAt) return null;
  const ageMs = nowMs - mark[0];
  if (ageMs < STATS_CPU_WINDOW_MS || ageMs > CPU_MARK_MAX_AGE_MS) return null;
  return { ns: mark[1], atMs: mark[0] };
}

/** Pure: the mark to keep for the next audit. */
export function markOf(reading: CpuSample, startedAt: string): CpuMark {
  return [Math.round(reading.atMs), reading.ns, startedAt];
}
