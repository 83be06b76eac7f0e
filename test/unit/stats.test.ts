import { describe, expect, test } from 'bun:test';
import { clockMs, readStats, statsFromRaw, STATS_CPU_WINDOW_MS } from '../../src/observe/stats.ts';
import type { Engine } from '../../src/engine/client.ts';
import { fixtureJson } from './helpers/fixtures.ts';

// Real engine answers from Docker 20.10.24 (API 1.41), cgroup v1 host:
//   stats-one-shot.v1.41.json / .later.json  one-shot stats of one container (--pids-limit 25), ~1 s apart
//   stats-two-sample.unlimited.json          a plain (two-sample) stats call, container without a pids limit
type Raw = Parameters<typeof statsFromRaw>[0];
// Each test gets a fresh copy, so one test's edits never leak into another.
const first = () => fixtureJson<Raw & Record<string, unknown>>('engine', 'stats-one-shot.v1.41.json');
const later = () => fixtureJson<Raw & Record<string, unknown>>('engine', 'stats-one-shot.v1.41.later.json');
const unlimited = () => fixtureJson<Raw & Record<string, unknown>>('engine', 'stats-two-sample.unlimited.json');

/** The later sample with `ns` more nanoseconds of CPU used by the container. */
function laterWithCpu(ns: number): Raw {
  const b = later();
  b.cpu_stats!.cpu_usage!.total_usage! += ns;
  return b;
}

describe('statsFromRaw on real one-shot samples', () => {
  test('the captured pair: an idle container, 0 % CPU', () => {
    // total_usage 26276190 in both samples: cpuDelta 0.
    // system_cpu_usage 757200000000 - 755160000000 = 2040000000 ns.
    // 0 / 2040000000 x 2 cpus x 100 = 0.
    expect(statsFromRaw(first(), later()).cpuPercent).toBe(0);
  });

  test('CPU % by hand: cpuDelta / systemDelta x online_cpus x 100', () => {
    // 102000000 / 2040000000 = 0.05; x 2 online cpus x 100 = 10 %.
    expect(statsFromRaw(first(), laterWithCpu(102_000_000)).cpuPercent).toBe(10);
    // A whole CPU busy for the window: the host saw 2040000000 ns over 2 cpus, i.e. 1020000000 ns
    // of wall time per cpu; one cpu's worth is 100 %.
    expect(statsFromRaw(first(), laterWithCpu(1_020_000_000)).cpuPercent).toBe(100);
  });

  test('CPU % is rounded to two decimals', () => {
    // 12345678 / 2040000000 x 2 x 100 = 1.21036058... -> 1.21
    expect(statsFromRaw(first(), laterWithCpu(12_345_678)).cpuPercent).toBe(1.21);
  });

  test('one sample only: CPU % unknown (one-shot stats carry no precpu)', () => {
    expect(statsFromRaw(first(), null).cpuPercent).toBeNull();
  });

  test('samples in the wrong order (system time going backwards): CPU % unknown', () => {
    expect(statsFromRaw(later(), first()).cpuPercent).toBeNull();
  });

  test('container CPU counter going backwards (restarted between samples): CPU % unknown, never negative', () => {
    expect(statsFromRaw(first(), laterWithCpu(-1_000_000)).cpuPercent).toBeNull();
  });

  test('the same sample twice (no system time elapsed): CPU % unknown, no division by zero', () => {
    expect(statsFromRaw(first(), first()).cpuPercent).toBeNull();
  });

  test('memory excludes the page cache as the docker CLI does: usage - total_inactive_file', () => {
    // usage 1069056, total_inactive_file 360448 -> 708608 (what `docker stats` shows as MEM USAGE)
    const s = statsFromRaw(first(), later());
    expect(s.memoryBytes).toBe(1_069_056 - 360_448);
    expect(s.memoryBytes).toBe(708_608);
    expect(s.memoryLimitBytes).toBe(25_274_793_984);
  });

  test('the pids limit set with --pids-limit 25 comes through the API', () => {
    expect(statsFromRaw(first(), later()).apiPids).toEqual({ current: 1, max: 25 });
    expect(statsFromRaw(first(), null).apiPids).toEqual({ current: 1, max: 25 });
  });

  test('memory and pids come from the later sample when there are two', () => {
    const b = later();
    b.memory_stats!.usage = 2_000_000;
    b.pids_stats = { current: 7, limit: 25 };
    const s = statsFromRaw(first(), b);
    expect(s.memoryBytes).toBe(2_000_000 - 360_448);
    expect(s.apiPids.current).toBe(7);
  });
});

describe('statsFromRaw on the container without a pids limit', () => {
  test('no "limit" in pids_stats -> apiPids.max null; current still read', () => {
    expect(statsFromRaw(unlimited(), null).apiPids).toEqual({ current: 1, max: null });
  });

  test('memory: usage 667648, total_inactive_file 0 -> 667648', () => {
    const s = statsFromRaw(unlimited(), null);
    expect(s.memoryBytes).toBe(667_648);
    expect(s.memoryLimitBytes).toBe(25_274_793_984);
  });

  test('its own precpu/cpu pair: 0 ns of container CPU over 2000000000 ns of system time -> 0 %', () => {
    const raw = unlimited() as unknown as Raw & { precpu_stats: NonNullable<Raw['cpu_stats']> };
    // system 761200000000 - 759200000000 = 2000000000; total_usage equal -> 0 %
    expect(statsFromRaw({ cpu_stats: raw.precpu_stats }, raw).cpuPercent).toBe(0);
  });
});

describe('statsFromRaw edge cases', () => {
  test('a pids limit of 0 means unset -> null', () => {
    expect(statsFromRaw({ pids_stats: { current: 3, limit: 0 } }, null).apiPids).toEqual({ current: 3, max: null });
  });

  test('a pids limit of 2^64-1 ("max" as the engine reports it on some versions) -> null', () => {
    const raw = JSON.parse('{"pids_stats":{"current":3,"limit":18446744073709551615}}') as Raw;
    expect(statsFromRaw(raw, null).apiPids.max).toBeNull();
  });

  test('cgroup v2 memory stats (inactive_file, no total_* keys)', () => {
    const s = statsFromRaw({ memory_stats: { usage: 10_000_000, limit: 50_000_000, stats: { inactive_file: 4_000_000 } } }, null);
    expect(s.memoryBytes).toBe(6_000_000);
    expect(s.memoryLimitBytes).toBe(50_000_000);
  });

  test('a cache figure not below usage is not subtracted (memory never goes to 0 or negative)', () => {
    const s = statsFromRaw({ memory_stats: { usage: 1000, stats: { total_inactive_file: 1000 } } }, null);
    expect(s.memoryBytes).toBe(1000);
  });

  test('a stopped container (empty stats objects): every figure unknown', () => {
    expect(statsFromRaw({}, {})).toEqual({
      cpuPercent: null,
      memoryBytes: null,
      memoryLimitBytes: null,
      apiPids: { current: null, max: null },
    });
  });

  test('online_cpus missing: counted as one CPU', () => {
    const a = { cpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 1_000_000_000 } };
    const b = { cpu_stats: { cpu_usage: { total_usage: 250_000_000 }, system_cpu_usage: 2_000_000_000 } };
    // 250000000 / 1000000000 x 1 x 100 = 25 %
    expect(statsFromRaw(a, b).cpuPercent).toBe(25);
  });
});

describe('readStats with a window started earlier (an audit reads every CPU counter at its start)', () => {
  // The engine is never asked: the cgroup files answer (a throwing stand-in proves it).
  const engine = new Proxy({}, { get: () => { throw new Error('engine asked'); } }) as unknown as Engine;
  const memory = async () => ({ usageBytes: 1000, limitBytes: 2000 });

  test('the counter is read once more, and CPU % covers the whole window since the first reading', async () => {
    let reads = 0;
    const cpu = async () => {
      reads++;
      return 2e9; // 1 s of CPU after the first reading's 1e9
    };
    const atMs = clockMs() - 2 * STATS_CPU_WINDOW_MS;
    const r = await readStats(engine, 'c1', { cpu, memory, first: { ns: 1e9, atMs } });
    expect(reads).toBe(1);
    expect(r.memoryBytes).toBe(1000);
    // 1 s of CPU in a window of at least 200 ms: at most 500 %, and more than 0.
    expect(r.cpuPercent!).toBeGreaterThan(0);
    expect(r.cpuPercent!).toBeLessThanOrEqual(500);
    // the window it covers, and the reading the next audit's window can start from
    expect(r.cpuWindowMs!).toBeGreaterThanOrEqual(2 * STATS_CPU_WINDOW_MS);
    expect(r.cpuLast!.ns).toBe(2e9);
    expect(r.cpuLast!.atMs).toBeGreaterThan(atMs);
  });

  test('a window started a moment ago lasts its whole 100 ms, never 99 (Bun.sleep wakes early from a fractional wait)', async () => {
    const cpu = async () => 2e9;
    const windows: number[] = [];
    // 13 in 100 windows were 99 ms before: 30 of them all at 100 or more by chance would be 1.5 %
    for (let i = 0; i < 30; i++) {
      const r = await readStats(engine, 'c1', { cpu, memory, first: { ns: 1e9, atMs: clockMs() - Math.random() * 3 } });
      windows.push(r.cpuWindowMs!);
    }
    expect(windows.filter((ms) => ms < STATS_CPU_WINDOW_MS)).toEqual([]);
  });

  test('a first reading minutes old (the previous audit\'s): no wait, CPU % over those minutes', async () => {
    const cpu = async () => 61e9; // 60 s of CPU since the first reading's 1e9
    const atMs = clockMs() - 120_000;
    const t0 = performance.now();
    const r = await readStats(engine, 'c1', { cpu, memory, first: { ns: 1e9, atMs } });
    expect(performance.now() - t0).toBeLessThan(STATS_CPU_WINDOW_MS); // nothing to wait for
    expect(r.cpuPercent!).toBeGreaterThan(49); // 60 s of CPU in ~120 s
    expect(r.cpuPercent!).toBeLessThanOrEqual(50);
    expect(r.cpuWindowMs!).toBeGreaterThanOrEqual(120_000);
  });

  test('a counter below the first reading (another run of the container): no figure, not a negative one', async () => {
    const cpu = async () => 5e8;
    const r = await readStats(engine, 'c1', { cpu, memory, first: { ns: 1e9, atMs: clockMs() - 60_000 } });
    expect(r.cpuPercent).toBeNull();
    expect(r.cpuWindowMs).toBeUndefined();
    expect(r.cpuLast!.ns).toBe(5e8); // the next window starts from this one
  });

  test('without a first reading, both readings are its own', async () => {
    let reads = 0;
    const cpu = async () => {
      reads++;
      return 1e9; // idle: the same counter both times
    };
    const r = await readStats(engine, 'c1', { cpu, memory });
    expect(reads).toBe(2);
    expect(r.cpuPercent).toBe(0);
  });
});
