// Pure: is a container idle? From samples of its cumulative counters (CPU time, block I/O bytes,
// network bytes), the oldest first, the last one taken now. Idle for a window W means: there is a
// sample at least W old, and from it to now every interval between consecutive samples used less
// than the CPU threshold, and neither I/O counter grew at all. A counter that went down means the
// container's cgroup was recreated (a restart): nothing before that can be compared. Nor can two
// samples whose wall-clock gap is not the time that passed: a board without a hardware clock boots
// at fake-hwclock's saved time, NTP steps the clock 2 days forward, and two samples 30 s apart
// read as 2 days of idling (5 ms of CPU over 2 days: 0%). Each sample also keeps the host's uptime
// (CLOCK_BOOTTIME, /proc/uptime), which no clock step moves; a gap that differs from the uptime's
// by more than CLOCK_STEP_TOLERANCE_MS ends the comparable history like a counter reset.

export interface UsageSample {
  /** ms since the epoch. */
  t: number;
  /** Cumulative CPU time of the container's cgroup, ns. */
  cpuNs: number;
  /** Cumulative block I/O, bytes read + written. */
  blockBytes: number;
  /** Cumulative network bytes received + sent, loopback excluded (0 with --network none). */
  netBytes: number;
  /** The host's uptime when taken, ms (/proc/uptime: counts suspend, never stepped); absent in older state files. */
  upMs?: number;
}

/**
 * How far a gap between two samples on the wall clock may differ from the same gap on the uptime
 * clock: NTP slews at most 500 ppm (0.15 s in 5 minutes) and the two clocks are read a few ms
 * apart; a step is seconds to years.
 */
export const CLOCK_STEP_TOLERANCE_MS = 2_000;

/**
 * Whether `b` can be compared with `a`, the sample before it: no counter went down (a restart) and
 * the wall clock was not stepped between them. Samples without uptime (state files written before
 * it was kept) compare with each other as before, never with one that has it.
 */
export function comparable(a: UsageSample, b: UsageSample): boolean {
  if (b.cpuNs < a.cpuNs || b.blockBytes < a.blockBytes || b.netBytes < a.netBytes) return false;
  if (a.upMs === undefined && b.upMs === undefined) return true;
  if (a.upMs === undefined || b.upMs === undefined) return false;
  return Math.abs(b.t - a.t - (b.upMs - a.upMs)) <= CLOCK_STEP_TOLERANCE_MS;
}

export type IdleVerdict =
  | { idle: true; forMs: number; cpuPercent: number; blockBytes: number; netBytes: number }
  | { idle: false; why: string; cpuPercent?: number };

/** Percent of one core: 100 = one CPU busy for the whole interval, as `docker stats` shows it. */
export function cpuPercentBetween(a: UsageSample, b: UsageSample): number {
  const ms = b.t - a.t;
  return ms > 0 ? Math.round(((b.cpuNs - a.cpuNs) / (ms * 1e6)) * 100 * 1000) / 1000 : 0;
}

export function judgeIdle(samples: readonly UsageSample[], nowMs: number, windowMs: number, cpuThresholdPercent: number): IdleVerdict {
  const sorted = [...samples].filter((s) => s.t <= nowMs).sort((a, b) => a.t - b.t);
  // Only the samples since the last counter reset or clock step belong to the container as it runs now.
  let first = 0;
  for (let i = 1; i < sorted.length; i++) if (!comparable(sorted[i - 1]!, sorted[i]!)) first = i;
  const usable = sorted.slice(first);
  let base = -1;
  for (let i = 0; i < usable.length; i++) if (usable[i]!.t <= nowMs - windowMs) base = i;
  if (base < 0 || usable.length - base < 2) {
    const since = usable[0];
    return { idle: false, why: since ? `measured for ${Math.round((nowMs - since.t) / 1000)} s only` : 'not measured yet' };
  }
  let peak = 0;
  for (let i = base + 1; i < usable.length; i++) peak = Math.max(peak, cpuPercentBetween(usable[i - 1]!, usable[i]!));
  const from = usable[base]!;
  const to = usable[usable.length - 1]!;
  const blockBytes = to.blockBytes - from.blockBytes;
  const netBytes = to.netBytes - from.netBytes;
  if (peak >= cpuThresholdPercent) return { idle: false, why: `CPU ${peak}% >= ${cpuThresholdPercent}%`, cpuPercent: peak };
  if (blockBytes > 0) return { idle: false, why: `block I/O grew by ${blockBytes} bytes`, cpuPercent: peak };
  if (netBytes > 0) return { idle: false, why: `network I/O grew by ${netBytes} bytes`, cpuPercent: peak };
  return { idle: true, forMs: to.t - from.t, cpuPercent: peak, blockBytes, netBytes };
}

/**
 * Which samples to keep: everything a window of `windowMs` still needs (the newest sample at least
 * that old, and all after it), at most one per windowMs/MAX_SAMPLES_PER_WINDOW, so that a monitor at
 * --interval 0.25 keeps ~34 samples per container, not 1200 for a 5-minute window.
 */
export const MAX_SAMPLES_PER_WINDOW = 32;

export function keepSamples(samples: readonly UsageSample[], added: UsageSample, windowMs: number): UsageSample[] {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const last = sorted[sorted.length - 1];
  const spacing = windowMs / MAX_SAMPLES_PER_WINDOW;
  // A reset (counter down, clock stepped) must be recorded at once: it ends the comparable history.
  const reset = last !== undefined && !comparable(last, added);
  const all = last === undefined || reset || added.t - last.t >= spacing ? [...sorted, added] : sorted;
  let base = 0;
  for (let i = 0; i < all.length; i++) if (all[i]!.t <= added.t - windowMs) base = i;
  return all.slice(base);
}
