// The audit's CPU window from the previous audit's reading (src/observe/cpu-mark.ts) and how the
// state file keeps that reading (src/state/state-file.ts).
import { describe, expect, test } from 'bun:test';
import { markOf, windowStart } from '../../src/observe/cpu-mark.ts';
import { STATS_CPU_WINDOW_MS } from '../../src/observe/stats.ts';
import { CPU_MARK_MAX_AGE_MS, parseState, pruneState, type CpuMark } from '../../src/state/state-file.ts';

const STARTED = '2026-12-02T01:21:20.026034152Z';
const ID = 'a'.repeat(64);
const NOW = 1_796_174_553_610;

describe('windowStart: which mark may start the window', () => {
  const mark: CpuMark = [NOW - 300_000, 81_234_000_000, STARTED];

  test('the same run of the container, 5 minutes ago: the window starts there', () => {
    expect(windowStart(mark, STARTED, NOW)).toEqual({ ns: 81_234_000_000, atMs: NOW - 300_000 });
  });

  test('another run (restarted: another StartedAt), or no StartedAt: none', () => {
    expect(windowStart(mark, '2026-12-02T01:30:00.000000001Z', NOW)).toBeNull();
    expect(windowStart([NOW - 300_000, 1, ''], '', NOW)).toBeNull();
  });

  test('younger than one fresh window, or older than the longest kept: none', () => {
    expect(windowStart([NOW - STATS_CPU_WINDOW_MS + 1, 1, STARTED], STARTED, NOW)).toBeNull();
    expect(windowStart([NOW - STATS_CPU_WINDOW_MS, 1, STARTED], STARTED, NOW)).not.toBeNull();
    expect(windowStart([NOW - CPU_MARK_MAX_AGE_MS, 1, STARTED], STARTED, NOW)).not.toBeNull();
    expect(windowStart([NOW - CPU_MARK_MAX_AGE_MS - 1, 1, STARTED], STARTED, NOW)).toBeNull();
    // a clock set back since: a mark "from the future" is no window
    expect(windowStart([NOW + 60_000, 1, STARTED], STARTED, NOW)).toBeNull();
  });

  test('no mark: none', () => {
    expect(windowStart(undefined, STARTED, NOW)).toBeNull();
  });

  test('markOf keeps whole milliseconds, the counter and the StartedAt', () => {
    expect(markOf({ ns: 42, atMs: NOW + 0.6 }, STARTED)).toEqual([NOW + 1, 42, STARTED]);
  });
});

describe('the state file keeps a mark beside the samples', () => {
  const doc = (cpuMark: unknown) =>
    JSON.stringify({ version: 1, containers: { [ID]: { name: 'metamcp', restarts: [], samples: [[NOW - 1000, 10, 1, 20]], cpuMark } } });

  test('a well-formed mark is read', () => {
    expect(parseState(doc([NOW - 1000, 5, STARTED]))!.containers[ID]!.cpuMark).toEqual([NOW - 1000, 5, STARTED]);
  });

  test('a malformed mark is dropped, and the file still reads (a mark is expendable)', () => {
    for (const bad of [[NOW, -1, STARTED], [NOW, 1], [NOW, 1, 7], 'x', [0, 1, STARTED], [NOW, 1.5, STARTED]]) {
      const st = parseState(doc(bad));
      expect(st).not.toBeNull();
      expect(st!.containers[ID]!.cpuMark).toBeUndefined();
      expect(st!.containers[ID]!.samples).toHaveLength(1);
    }
  });

  test('pruning keeps a mark up to CPU_MARK_MAX_AGE_MS old, not beyond', () => {
    const st = parseState(doc([NOW - 1000, 5, STARTED]))!;
    expect(pruneState(st, NOW).containers[ID]!.cpuMark).toEqual([NOW - 1000, 5, STARTED]);
    expect(pruneState(st, NOW - 1000 + CPU_MARK_MAX_AGE_MS + 1).containers[ID]!.cpuMark).toBeUndefined();
  });
});
