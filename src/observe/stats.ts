// CPU and memory through the engine's one-shot stats (API 1.41+): a plain stats call makes the
// engine wait for a second sample (1–2 s per container); one-shot answers at once, but without
// precpu, so CPU % needs two one-shot samples. We take them STATS_CPU_WINDOW_MS apart.
import type { Engine } from '../engine/client.ts';
import { engineCall } from '../engine/client.ts';

export const STATS_CPU_WINDOW_MS = 200;

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

export async function readStats(engine: Engine, id: string, windowMs = STATS_CPU_WINDOW_MS): Promise<StatsReading> {
  const first = await oneShot(engine, id);
  let second: RawStats | null = null;
  if (windowMs > 0) {
    await Bun.sleep(windowMs);
    second = await oneShot(engine, id);
  }
  return statsFromRaw(first, second);
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
