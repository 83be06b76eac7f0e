// Pure: how fast a container grows and when it drowns, from the samples kept in the state file.
// A least-squares line through the samples of a window, like Prometheus' predict_linear(): the
// founding case's hand-kept table (226 -> 346 -> 387 -> 406 -> 426 -> 536 processes, half an hour
// apart) is exactly what this reads.

export interface Sample {
  /** ms since the epoch */
  t: number;
  processes: number | null;
  trees: number | null;
  tasks: number | null;
}

export interface Growth {
  /** Processes per hour over the window (null: too few samples). */
  perHour: number | null;
  windowSeconds: number;
  samples: number;
  /** Seconds until processes exceed max-procs at this rate (null: not growing, unknown, or already over). */
  toMaxProcsSeconds: number | null;
  /** Tasks (pids.current: threads included) per hour over the window; null: no task figures. */
  tasksPerHour: number | null;
  /** Seconds until tasks reach pids.max at the task rate. */
  toPidsMaxSeconds: number | null;
}

/** A forecast needs at least this many samples spread over at least this long. */
export const MIN_SAMPLES = 3;
export const MIN_SPAN_MS = 2 * 60_000;
export const WINDOWS_MS = [3_600_000, 6 * 3_600_000] as const;

/** Slope (units per ms) of the least-squares line through (t, v); null with fewer than 2 points. */
export function slope(points: { t: number; v: number }[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? null : num / den;
}

function seriesOf(samples: Sample[], key: 'processes' | 'tasks'): { t: number; v: number }[] {
  return samples.filter((s) => s[key] !== null).map((s) => ({ t: s.t, v: s[key] as number }));
}

export function growthOver(
  samples: Sample[],
  nowMs: number,
  windowMs: number,
  limits: { maxProcs: number; pidsMax: number | null; processes: number | null; tasks: number | null },
): Growth {
  const inWindow = samples.filter((s) => s.t > nowMs - windowMs && s.t <= nowMs).sort((a, b) => a.t - b.t);
  const procs = seriesOf(inWindow, 'processes');
  const span = procs.length > 0 ? procs[procs.length - 1]!.t - procs[0]!.t : 0;
  const none: Growth = { perHour: null, windowSeconds: windowMs / 1000, samples: procs.length, toMaxProcsSeconds: null, tasksPerHour: null, toPidsMaxSeconds: null };
  if (procs.length < MIN_SAMPLES || span < MIN_SPAN_MS) return none;
  const perMs = slope(procs);
  if (perMs === null) return none;
  const perHour = hourly(perMs);
  const until = (now: number | null, limit: number | null, rate: number | null): number | null => {
    if (now === null || limit === null || rate === null || rate <= 0 || now >= limit) return null;
    return Math.round((limit - now) / rate / 1000);
  };
  const taskRate = slope(seriesOf(inWindow, 'tasks'));
  return {
    ...none,
    perHour,
    tasksPerHour: taskRate === null ? null : hourly(taskRate),
    toMaxProcsSeconds: until(limits.processes, limits.maxProcs + 1, perMs),
    toPidsMaxSeconds: until(limits.tasks, limits.pidsMax, taskRate),
  };
}

/** Units per ms to units per hour, one decimal. */
function hourly(perMs: number): number {
  return Math.round(perMs * 3_600_000 * 10) / 10;
}

const signed = (n: number) => `${n > 0 ? '+' : ''}${n}`;

/**
 * "+120/h …; reaches max-procs in 3 h; tasks +1300/h, pids.max in 5 h" (or null when there is no
 * forecast). max-procs counts processes, pids.max counts tasks (pids.current counts every thread),
 * so each limit is given with its own rate: 8 Node processes can hold a steady process count while
 * their threads climb to pids.max.
 */
export function growthLine(g: Growth): string | null {
  if (g.perHour === null) return null;
  const parts = [`${signed(g.perHour)}/h over the last ${Math.round(g.windowSeconds / 3600)} h (${g.samples} samples)`];
  if (g.toMaxProcsSeconds !== null) parts.push(`reaches max-procs in ${duration(g.toMaxProcsSeconds)}`);
  if (g.toPidsMaxSeconds !== null && g.tasksPerHour !== null) parts.push(`tasks ${signed(g.tasksPerHour)}/h, pids.max in ${duration(g.toPidsMaxSeconds)}`);
  return parts.join('; ');
}

/** The soonest limit within `warnWithinS`, as a warning reason with the rate that reaches it, or null. */
export function forecastWarning(g: Growth, warnWithinS: number): string | null {
  // A time to a limit exists only while its own rate is positive (growthOver's until()).
  const candidates: [seconds: number | null, reason: (when: string) => string][] = [
    [g.toMaxProcsSeconds, (when) => `growing ${g.perHour}/h: reaches max-procs in ${when}`],
    [g.toPidsMaxSeconds, (when) => `tasks growing ${g.tasksPerHour}/h: reaches pids.max in ${when}`],
  ];
  const soonest = candidates
    .filter((x): x is [number, (when: string) => string] => x[0] !== null && x[0] <= warnWithinS)
    .sort((a, b) => a[0] - b[0])[0];
  return soonest ? soonest[1](duration(soonest[0])) : null;
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
