// CPU and memory through the engine's one-shot stats (API 1.41+): a plain stats call makes the
// engine wait for a second sample (1–2 s per container); one-shot answers at once (~5 ms), but
// without precpu, and a second one-shot waits for the engine's next 1 s collection tick
// (measured: 1.0 s on Docker 20.10). So CPU % comes from the cgroup's own CPU counter read twice
// STATS_CPU_WINDOW_MS apart when the engine is local, and from two one-shot samples otherwise.
import type { Engine } from '../engine/client.ts';
import { engineCall } from '../engine/client.ts';

export const STATS_CPU_WINDOW_MS = 100;

export interface StatsReading {
  cpuPercent: number | null;
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

/** Reads the container's cumulative CPU time in ns from the cgroup fs; null when not readable. */
export type CpuCounter = () => Promise<number | null>;

export async function readStats(engine: Engine, id: string, localCpu?: CpuCounter): Promise<StatsReading> {
  if (localCpu) {
    const startNs = process.hrtime.bigint();
    const [cpu0, raw] = await Promise.all([localCpu(), oneShot(engine, id)]);
    const reading = statsFromRaw(raw, null);
    if (cpu0 !== null) {
      const waitMs = STATS_CPU_WINDOW_MS - Number(process.hrtime.bigint() - startNs) / 1e6;
      if (waitMs > 0) await Bun.sleep(waitMs);
      const cpu1 = await localCpu();
      const elapsedNs = Number(process.hrtime.bigint() - startNs);
      // 100 % = one CPU busy for the whole window, as `docker stats` shows it.
      if (cpu1 !== null && elapsedNs > 0) reading.cpuPercent = round2(((cpu1 - cpu0) / elapsedNs) * 100);
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
