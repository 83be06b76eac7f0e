import { describe, expect, test } from 'bun:test';
import { forecastWarning, growthLine, growthOver, slope, type Sample } from '../../src/decide/growth.ts';
import { configuredLimit, judgeLimit, type LimitFigures, type LimitVerdict } from '../../src/decide/limits.ts';
import { parseLimitValue, parsePidsEvents } from '../../src/observe/pids-limits.ts';
import { addSample, downsample, SAMPLE_EVERY_MS, type SampleRow } from '../../src/state/state-file.ts';

const f = (o: Partial<LimitFigures>): LimitFigures => ({
  configured: null, inForce: null, heldBy: null, enforceable: true, forksRefused: 0, peak: null, current: 10, ...o,
});

describe('the limit verdict', () => {
  const rows: [string, LimitFigures, number | undefined, LimitVerdict][] = [
    ['no limit configured, none in force', f({}), undefined, 'none'],
    ['configured 25, cgroup has none (pids.max set to max behind the engine)', f({ configured: 25 }), undefined, 'not-in-force'],
    ['in force but below the count: lowered on a running container', f({ configured: 25, inForce: 5, current: 12 }), undefined, 'below-current'],
    ['forks refused since the container started (no previous sample)', f({ configured: 25, inForce: 25, current: 25, forksRefused: 60 }), undefined, 'hit'],
    ['forks refused since the previous sample', f({ configured: 25, inForce: 25, current: 25, forksRefused: 70 }), 60, 'hit'],
    ['no new refusal since the previous sample', f({ configured: 25, inForce: 25, current: 20, forksRefused: 60 }), 60, 'ok'],
    ['counter lower than before: a new cgroup (restart), counted afresh', f({ inForce: 25, current: 20, forksRefused: 3 }), 60, 'hit'],
    ['a slice above holds a limit the container never configured', f({ inForce: 500, heldBy: '/sys/fs/cgroup/system.slice' }), undefined, 'ok'],
    ['configured and in force', f({ configured: 25, inForce: 25, current: 9 }), undefined, 'ok'],
    ['below the count and refusing forks: the cause (below-current) is named', f({ configured: 25, inForce: 5, current: 12, forksRefused: 40 }), undefined, 'below-current'],
  ];
  for (const [name, figures, previous, verdict] of rows) test(name, () => expect(judgeLimit(figures, previous).verdict).toBe(verdict));

  test('hit says how many forks, and since when', () => {
    expect(judgeLimit(f({ inForce: 25, current: 25, forksRefused: 70 }), 60).line).toContain('10 forks refused since the previous sample');
    expect(judgeLimit(f({ inForce: 25, current: 25, forksRefused: 1 })).line).toContain('1 fork refused since the container started');
  });

  test("a shared parent's limit: the room it leaves, its pids.max and what the other cgroups use are named", () => {
    const shared = { shared: { max: 22, current: 20 }, heldBy: '/sys/fs/cgroup/pids/p', current: 7 };
    const ok = judgeLimit(f({ inForce: 9, ...shared }));
    expect(ok.verdict).toBe('ok');
    expect(ok.line).toBe('limit ok: 7 of 9 tasks (not configured; pids.max 22 held by /sys/fs/cgroup/pids/p, shared: other cgroups under it use 13)');
    expect(judgeLimit(f({ inForce: 9, forksRefused: 4, ...shared })).line).toBe(
      'limit hit: 4 forks refused since the container started; the app is failing to start processes (9 tasks left by a shared parent: pids.max 22 held by /sys/fs/cgroup/pids/p, shared: other cgroups under it use 13)',
    );
    // the parent over its own limit: nothing is left to this container
    const below = judgeLimit(f({ inForce: 0, ...shared, shared: { max: 10, current: 30 } }));
    expect(below.verdict).toBe('below-current');
    expect(below.line).toContain('pids.current 7 > the 0 tasks left to it (pids.max 10 held by /sys/fs/cgroup/pids/p, shared: other cgroups under it use 23)');
  });

  test('an engine that cannot enforce limits is named as the cause', () => {
    expect(judgeLimit(f({ configured: 25, enforceable: false })).line).toContain('cannot enforce');
  });

  test('HostConfig.PidsLimit: null, 0 and -1 all mean none', () => {
    expect([null, 0, -1, 25, '25', 2.5].map(configuredLimit)).toEqual([null, null, null, 25, null, null]);
  });

  test('pids.events and pids.max as the kernel writes them (v1 "max 0"; v2 may add max.imposed)', () => {
    expect(parsePidsEvents('max 0\n')).toBe(0);
    expect(parsePidsEvents('max 62\nmax.imposed 62\n')).toBe(62);
    expect(parsePidsEvents('')).toBeNull();
    expect([parseLimitValue('max\n'), parseLimitValue('25\n'), parseLimitValue('')]).toEqual(['max', 25, null]);
  });
});

describe('growth, like predict_linear', () => {
  const MIN = 60_000;
  const T0 = 1_800_000_000_000;
  // the founding case's hand-kept table: 226 -> 346 -> 387 -> 406 -> 426 -> 536, half an hour apart
  const founding: Sample[] = [226, 346, 387, 406, 426, 536].map((p, i) => ({ t: T0 + i * 30 * MIN, processes: p, trees: null, tasks: null }));

  test('the founding table: about +100 processes an hour over 2.5 hours (least squares: 103.4)', () => {
    const now = T0 + 150 * MIN;
    const g = growthOver(founding, now, 6 * 3_600_000, { maxProcs: 1000, pidsMax: null, processes: 536, tasks: null });
    expect(g.perHour).toBe(103.4);
    expect(g.samples).toBe(6);
    // 1000 - 536 + 1 = 465 more at 103.4/h: 4.5 h
    expect(g.toMaxProcsSeconds! / 3600).toBeCloseTo(4.5, 1);
  });

  test('no forecast with fewer than 3 samples, or samples spanning less than 2 minutes', () => {
    const lim = { maxProcs: 15, pidsMax: null, processes: 10, tasks: null };
    const s = (ms: number, p: number): Sample => ({ t: T0 + ms, processes: p, trees: null, tasks: null });
    expect(growthOver([s(0, 1), s(3 * MIN, 5)], T0 + 3 * MIN, 3_600_000, lim).perHour).toBeNull();
    expect(growthOver([s(0, 1), s(30_000, 3), s(60_000, 5)], T0 + MIN, 3_600_000, lim).perHour).toBeNull();
    expect(growthOver([s(0, 1), s(MIN, 3), s(2 * MIN, 5)], T0 + 2 * MIN, 3_600_000, lim).perHour).toBe(120);
  });

  test('a falling or flat count has a rate but no time to any limit, and no warning', () => {
    const pts = [0, 1, 2, 3].map((i) => ({ t: T0 + i * MIN, processes: 40 - i, trees: null, tasks: null }));
    const g = growthOver(pts, T0 + 3 * MIN, 3_600_000, { maxProcs: 50, pidsMax: null, processes: 37, tasks: null });
    expect(g.perHour).toBe(-60);
    expect(g.toMaxProcsSeconds).toBeNull();
    expect(forecastWarning(g, 6 * 3600)).toBeNull();
  });

  test('time to pids.max from the task rate; the warning names the soonest limit within --warn-within', () => {
    const pts = [0, 1, 2, 3].map((i) => ({ t: T0 + i * MIN, processes: 10 + i, trees: null, tasks: 100 + 10 * i }));
    const g = growthOver(pts, T0 + 3 * MIN, 3_600_000, { maxProcs: 1000, pidsMax: 250, processes: 13, tasks: 130 });
    expect(g.toPidsMaxSeconds).toBe(12 * 60); // 120 tasks at 10/min
    // pids.max is reached at the task rate (600/h), not the process rate (60/h): each is named with its own
    expect(forecastWarning(g, 6 * 3600)).toBe('tasks growing 600/h: reaches pids.max in 12 min');
    expect(growthLine(g)).toBe('+60/h over the last 1 h (4 samples); reaches max-procs in 16 h; tasks +600/h, pids.max in 12 min');
  });

  test('threads, not processes: 8 steady processes whose tasks climb 60/h to pids.max 60 are warned about', () => {
    const pts = [0, 1, 2, 3].map((i) => ({ t: T0 + i * MIN, processes: 8, trees: null, tasks: 46 + i }));
    const g = growthOver(pts, T0 + 3 * MIN, 3_600_000, { maxProcs: 15, pidsMax: 60, processes: 8, tasks: 49 });
    expect(g.perHour).toBe(0);
    expect(g.toPidsMaxSeconds).toBe(660); // 11 tasks at 1 a minute
    expect(forecastWarning(g, 6 * 3600)).toBe('tasks growing 60/h: reaches pids.max in 11 min');
    expect(growthLine(g)).toBe('0/h over the last 1 h (4 samples); tasks +60/h, pids.max in 11 min');
  });

  test('slope: least squares', () => {
    expect(slope([{ t: 0, v: 1 }, { t: 1, v: 3 }, { t: 2, v: 5 }])).toBe(2);
    expect(slope([{ t: 5, v: 1 }])).toBeNull();
    expect(slope([{ t: 5, v: 1 }, { t: 5, v: 9 }])).toBeNull();
  });
});

describe('samples in the state file: bounded', () => {
  const T0 = 1_800_000_000_000;
  test('a sample within a minute of the previous one is not kept', () => {
    const one = addSample([], [T0, 1, 0, 1]);
    expect(addSample(one, [T0 + SAMPLE_EVERY_MS - 1, 2, 0, 2])).toHaveLength(1);
    expect(addSample(one, [T0 + SAMPLE_EVERY_MS, 2, 0, 2])).toHaveLength(2);
  });

  test('a day of one sample a minute keeps the last 6 hours whole and one per 15 minutes before', () => {
    const rows: SampleRow[] = Array.from({ length: 24 * 60 }, (_, i) => [T0 + i * 60_000, i, 0, i]);
    const kept = downsample(rows, T0 + (24 * 60 - 1) * 60_000);
    expect(kept.length).toBeGreaterThan(360);
    expect(kept.length).toBeLessThanOrEqual(360 + 73);
    const sixHoursAgo = T0 + (24 * 60 - 1) * 60_000 - 6 * 3_600_000;
    expect(kept.filter((r) => r[0] >= sixHoursAgo)).toHaveLength(361);
  });
});
