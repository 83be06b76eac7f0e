import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cheapSampleRow, GrowthSampler } from '../../src/commands/monitor-samples.ts';
import { StateStore } from '../../src/state/state-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'pw-samples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ID = 'c'.repeat(64);
const T0 = 1_800_000_000_000;

test('the monitor samples once a minute, writes them in one batch, and knows its growth for /metrics', () => {
  const store = new StateStore(join(dir, 'state.json'), () => {});
  const s = new GrowthSampler(store);
  expect(s.due(ID, T0)).toBe(true);
  s.add(ID, 'x', [T0, 10, 1, 40], 0);
  expect(s.due(ID, T0 + 30_000)).toBe(false);
  expect(s.perHour(ID, T0)).toBeNull();
  s.add(ID, 'x', [T0 + 60_000, 12, 1, 44], 0);
  s.add(ID, 'x', [T0 + 120_000, 14, 1, 48], 0);
  expect(s.perHour(ID, T0 + 120_000)).toBe(120); // +2 a minute
  s.flush();
  expect(store.snapshot().containers[ID]!.samples).toHaveLength(3);
  // a new monitor starts from what the state file kept
  const again = new GrowthSampler(store);
  again.add(ID, 'x', [T0 + 180_000, 16, 1, 52], 0);
  expect(again.perHour(ID, T0 + 180_000)).toBe(120);
  s.retain(new Set());
  expect(s.perHour(ID, T0 + 120_000)).toBeNull();
});

test('a container holding 8 zombies, watched cheaply between full looks: no growth made of the two counts', () => {
  const store = new StateStore(join(dir, 'state-zombies.json'), () => {});
  const s = new GrowthSampler(store);
  const z = 'd'.repeat(64);
  // PID 1 and 8 zombies: the full look every 5 minutes counts 9 processes, cgroup.procs 1; pids.current 9
  const perHourAt: (number | null)[] = [];
  for (let minute = 0; minute <= 10; minute++) {
    const t = T0 + minute * 60_000;
    s.add(z, 'z', minute % 5 === 0 ? [t, 9, 0, 9] : cheapSampleRow(t, { current: 9 }), 0);
    perHourAt.push(s.perHour(z, t));
  }
  // with the cheap count in the samples, minute 8 read -24 processes an hour, minute 10 read 0
  expect(perHourAt[8]).toBeNull(); // two full looks so far: not yet known
  expect(perHourAt[10]).toBe(0);
});
