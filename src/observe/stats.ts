// CPU and memory. Through the engine's one-shot stats (API 1.41+) for remote engines: a plain
// stats call makes the engine wait for a second sample (1-2 s per container); one-shot answers at
// once (~5 ms) when the engine's collector is idle, but without precpu, and any further one-shot
// within a second or two waits for the collector's next 1 s tick (measured on Docker 20.10: 7 ms,
// then ~990 ms). So when the engine is local, pidwarden reads the same cgroup files the engine
// reads: CPU % from the CPU counter twice STATS_CPU_WINDOW_MS apart, memory as `docker stats`
// computes it; the API stays the fallback.
import type { Engine } from '../engine/client.ts';
import { engineCall } from '../engine/client.ts';

export const STATS_CPU_WINDOW_MS = 100;

export interface StatsReading {
  cpuPercent: number | null;
  /** Over how long cpuPercent was measured, when pidwarden measured it (local engine). */
  cpuWindowMs?: number;
  /** The CPU counter's second reading: the next audit's window starts here (state file). */
  cpuLast?: CpuSample;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  /** The engine's pids figures: the fallback when the cgroup fs is not readable (remote engine). */
  apiPids: { current: number | null; max: number | null };
}

interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number; limit?: number };
}

async function oneShot(engine: Engine, id: string): Promise<RawStats> {
  return (await engineCall(engine, () =>
    engine.docker.getContainer(id).stats({ stream: false, 'one-shot': true }),
  )) as unknown as RawStats;
}

/**
 * A reading of the container's CPU counter and when it was taken, in ms since the epoch (from this
 * process's monotonic clock: performance.timeOrigin + performance.now(), µs precision), so that a
 * reading kept in the state file by an earlier audit can start this audit's window.
 */
export interface CpuSample {
  ns: number;
  atMs: number;
}

export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The container's cgroup files, when the engine is local; each reader gives null when unreadable. */
export interface LocalCounters {
  /** Cumulative CPU time in ns. */
  cpu: () => Promise<number | null>;
  memory: () => Promise<{ usageBytes: number; limitBytes: number } | null>;
  /**
   * The window's first reading, taken earlier: an audit reads every container's counter at its
   * start, so the 100 ms window has passed by the time most containers' turn comes instead of
   * being waited for once per container in each concurrency slot (30 containers, 8 slots: four
   * waits of 100 ms; 200 containers: 25). Or the previous audit's last reading (cpu-mark.ts).
   */
  first?: CpuSample;
}

export async function readStats(engine: Engine, id: string, local?: LocalCounters): Promise<StatsReading> {
  if (local) {
    const startMs = local.first?.atMs ?? clockMs();
    const [cpu0, mem] = await Promise.all([local.first ? local.first.ns : local.cpu(), local.memory()]);
    const reading: StatsReading = mem
      ? { cpuPercent: null, memoryBytes: mem.usageBytes, memoryLimitBytes: mem.limitBytes, apiPids: { current: null, max: null } }
      : statsFromRaw(await oneShot(engine, id), null);
    if (cpu0 !== null) {
      // Bun.sleep wakes up to 1 ms early for a fractional wait (71 of 100 sleeps of 50.x ms did
      // here): whole milliseconds, and again until the window is really over. Else the window was
      // 99 ms in 13 of 100 audits, under the 0.1 s it promises (cpuWindowSeconds).
      for (let waitMs = STATS_CPU_WINDOW_MS - (clockMs() - startMs); waitMs > 0; waitMs = STATS_CPU_WINDOW_MS - (clockMs() - startMs)) {
        await Bun.sleep(Math.ceil(waitMs));
      }
      const cpu1 = await local.cpu();
      const atMs = clockMs();
      const elapsedMs = atMs - startMs;
      if (cpu1 !== null) reading.cpuLast = { ns: cpu1, atMs };
      // 100 % = one CPU busy for the whole window, as `docker stats` shows it. A counter that went
      // back belongs to another run of the container: no figure rather than a wrong one.
      if (cpu1 !== null && elapsedMs > 0 && cpu1 >= cpu0) {
        reading.cpuPercent = round2(((cpu1 - cpu0) / (elapsedMs * 1e6)) * 100);
        reading.cpuWindowMs = Math.round(elapsedMs);
      }
      return reading;
    }
  }
  const first = await oneShot(engine, id);
  return statsFromRaw(first, await oneShot(engine, id));
}

/** Pure: the same arithmetic as the docker CLI (calculateCPUPercentUnix, memory minus page cache). */
export function statsFromRaw(a: RawStats, b: RawStats | null): StatsReading {
  const latest = b ?? a;
  let cpuPercent: number | null = null;
  if (b) {
    const cpuDelta = (b.cpu_stats?.cpu_usage?.total_usage ?? 0) - (a.cpu_stats?.cpu_usage?.total_usage ?? 0);
    const sysDelta = (b.cpu_stats?.system_cpu_usage ?? 0) - (a.cpu_stats?.system_cpu_usage ?? 0);
    const cpus = b.cpu_stats?.online_cpus ?? 1;
    if (sysDelta > 0 && cpuDelta >= 0) cpuPercent = round2((cpuDelta / sysDelta) * cpus * 100);
  }
  const mem = latest.memory_stats;
  let memoryBytes: number | null = null;
  if (typeof mem?.usage === 'number') {
    // v1 reports page cache as total_inactive_file/cache, v2 as inactive_file (docker CLI's rule).
    const s = mem.stats ?? {};
    const cache = s.total_inactive_file ?? s.inactive_file ?? s.cache ?? 0;
    memoryBytes = Math.max(0, mem.usage - (cache < mem.usage ? cache : 0));
  }
  const limit = latest.pids_stats?.limit;
  return {
    cpuPercent,
    memoryBytes,
    memoryLimitBytes: typeof mem?.limit === 'number' ? mem.limit : null,
    apiPids: {
      current: latest.pids_stats?.current ?? null,
      // 0 means unset; 2^64-1 ("max") comes through as a huge number.
      max: typeof limit === 'number' && limit > 0 && limit < 2 ** 53 ? limit : null,
    },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
