import { describe, expect, test } from 'bun:test';
import {
  decideRestart,
  DEFAULT_RESTART_LIMIT,
  MAX_RESTART_COUNT,
  MAX_RESTART_WINDOW_MS,
  parseRestartLimit,
  type RestartLimit,
} from '../../src/decide/restart-policy.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const NOW = Date.UTC(2026, 10, 21, 6, 0, 0);
const THREE_PER_HOUR: RestartLimit = { count: 3, windowMs: H };

describe('DEFAULT_RESTART_LIMIT', () => {
  test('3 restarts per hour', () => {
    expect(DEFAULT_RESTART_LIMIT).toEqual({ count: 3, windowMs: H });
  });
});

describe('decideRestart', () => {
  test('no history: allowed', () => {
    expect(decideRestart([], NOW, THREE_PER_HOUR)).toEqual({ allowed: true, recent: 0 });
  });

  test('fewer than count restarts in the window: allowed, and how many there were', () => {
    expect(decideRestart([NOW - 50 * M, NOW - 10 * M], NOW, THREE_PER_HOUR)).toEqual({ allowed: true, recent: 2 });
  });

  test('count restarts in the window: refused, retry when the oldest of them leaves the window', () => {
    const d = decideRestart([NOW - 50 * M, NOW - 30 * M, NOW - 10 * M], NOW, THREE_PER_HOUR);
    expect(d).toEqual({ allowed: false, recent: 3, retryAtMs: NOW - 50 * M + H });
    expect(d.retryAtMs).toBe(NOW + 10 * M);
  });

  test('restarts older than the window do not count', () => {
    expect(decideRestart([NOW - 3 * H, NOW - 2 * H, NOW - 61 * M, NOW - 5 * M], NOW, THREE_PER_HOUR)).toEqual({
      allowed: true,
      recent: 1,
    });
  });

  test('boundary: a restart exactly one window ago has left it; one millisecond later it has not', () => {
    const limit = { count: 1, windowMs: H };
    expect(decideRestart([NOW - H], NOW, limit)).toEqual({ allowed: true, recent: 0 });
    expect(decideRestart([NOW - H + 1], NOW, limit)).toEqual({ allowed: false, recent: 1, retryAtMs: NOW + 1 });
  });

  test('at retryAtMs it is allowed; one millisecond before, still refused', () => {
    const history = [NOW - 50 * M, NOW - 30 * M, NOW - 10 * M];
    const { retryAtMs } = decideRestart(history, NOW, THREE_PER_HOUR);
    expect(retryAtMs).toBeDefined();
    expect(decideRestart(history, retryAtMs!, THREE_PER_HOUR).allowed).toBe(true);
    expect(decideRestart(history, retryAtMs! - 1, THREE_PER_HOUR).allowed).toBe(false);
  });

  test('history in any order gives the same answer', () => {
    const sorted = [NOW - 50 * M, NOW - 30 * M, NOW - 10 * M];
    const shuffled = [NOW - 10 * M, NOW - 50 * M, NOW - 30 * M];
    expect(decideRestart(shuffled, NOW, THREE_PER_HOUR)).toEqual(decideRestart(sorted, NOW, THREE_PER_HOUR));
  });

  test('more than count in the window (e.g. the limit was lowered): retry when enough have left', () => {
    const history = [NOW - 55 * M, NOW - 40 * M, NOW - 30 * M, NOW - 20 * M, NOW - 1 * M];
    const d = decideRestart(history, NOW, THREE_PER_HOUR);
    // 5 in the window; below 3 needs the oldest 3 gone: the third oldest (NOW - 30m) leaves at NOW + 30m
    expect(d).toEqual({ allowed: false, recent: 5, retryAtMs: NOW + 30 * M });
    expect(decideRestart(history, d.retryAtMs!, THREE_PER_HOUR)).toEqual({ allowed: true, recent: 2 });
  });

  test('clock stepped back 5 minutes: the 3 restarts it put in the future still count (refused), retry one window after the oldest', () => {
    const history = [NOW + 5 * M, NOW + 6 * M, NOW + 7 * M];
    const d = decideRestart(history, NOW, THREE_PER_HOUR);
    expect(d).toEqual({ allowed: false, recent: 3, retryAtMs: NOW + 5 * M + H });
    expect(decideRestart(history, d.retryAtMs!, THREE_PER_HOUR)).toEqual({ allowed: true, recent: 2 });
    expect(decideRestart(history, d.retryAtMs! - 1, THREE_PER_HOUR).allowed).toBe(false);
  });

  test('a restart a whole window or more in the future (a badly wrong clock) is not counted: it cannot block restarts for ever', () => {
    expect(decideRestart([NOW + H, NOW + 2 * H, NOW + 30 * 24 * H], NOW, THREE_PER_HOUR)).toEqual({ allowed: true, recent: 0 });
    expect(decideRestart([NOW + H - 1], NOW, { count: 1, windowMs: H })).toEqual({ allowed: false, recent: 1, retryAtMs: NOW + 2 * H - 1 });
  });

  test('whenever a restart is refused, its retry time is later than now (records past, present and future)', () => {
    const offsets = [-H + 1, -30 * M, -1, 0, 1, 5 * M, H - 1];
    for (const a of offsets) for (const b of offsets) for (const c of offsets) {
      const d = decideRestart([NOW + a, NOW + b, NOW + c], NOW, THREE_PER_HOUR);
      expect(d.allowed).toBe(false);
      expect(d.retryAtMs!).toBeGreaterThan(NOW);
    }
  });

  test('a restart at this very millisecond counts', () => {
    expect(decideRestart([NOW], NOW, { count: 1, windowMs: H }).allowed).toBe(false);
  });

  test('a limit of 0 never allows a restart, and gives no (NaN) retry time', () => {
    const d = decideRestart([], NOW, { count: 0, windowMs: H });
    expect(d).toEqual({ allowed: false, recent: 0 });
    expect(d.retryAtMs).toBeUndefined();
    expect(decideRestart([NOW - M], NOW, { count: 0, windowMs: H }).retryAtMs).toBeUndefined();
  });

  test('the history array is not modified (it is sorted on a copy)', () => {
    const history = [NOW - 10 * M, NOW - 50 * M, NOW - 30 * M];
    decideRestart(history, NOW, THREE_PER_HOUR);
    expect(history).toEqual([NOW - 10 * M, NOW - 50 * M, NOW - 30 * M]);
  });
});

describe('parseRestartLimit', () => {
  test.each([
    ['3/1h', { count: 3, windowMs: H }],
    ['5/30m', { count: 5, windowMs: 30 * M }],
    ['10/90s', { count: 10, windowMs: 90 * S }],
    ['1/1d', { count: 1, windowMs: 24 * H }],
    ['3/1.5h', { count: 3, windowMs: 90 * M }],
    [' 3 / 1 h ', { count: 3, windowMs: H }],
    ['0/1h', { count: 0, windowMs: H }],
    ['03/01h', { count: 3, windowMs: H }],
    ['100/7d', { count: MAX_RESTART_COUNT, windowMs: MAX_RESTART_WINDOW_MS }],
  ] as const)('parses %p', (text, expected) => {
    expect(parseRestartLimit(text)).toEqual(expected);
  });

  test.each([
    '101/1h', // more attempts than the state file keeps
    '3/8d', // a longer window than the state file keeps
    '',
    '3',
    '3/',
    '/1h',
    '3/1', // no unit
    '3/h', // no number
    '3/1w', // unknown unit
    '3/1H', // units are lower case
    '3/0h', // an empty window
    '3/0.0s',
    '-1/1h',
    '3/-1h',
    '1.5/1h', // a fraction of a restart
    '3/1h extra',
    '3/1h/2',
    'three/1h',
    '99999999999999999999/1h', // not a safe integer
  ])('rejects %p', (text) => {
    expect(parseRestartLimit(text)).toBeNull();
  });
});
