import { describe, expect, test } from 'bun:test';
import { ContainerBackoff } from '../../src/commands/container-backoff.ts';

describe('per-container backoff', () => {
  const limits = { firstMs: 1000, maxMs: 5000 };

  test('a container that never failed is always ready', () => {
    const b = new ContainerBackoff(limits);
    expect(b.ready('a', 0)).toBe(true);
    expect(b.failing('a')).toBe(false);
  });

  test('each failure in a row doubles the delay, up to the maximum', () => {
    const b = new ContainerBackoff(limits);
    expect([b.failed('a', 0), b.failed('a', 0), b.failed('a', 0), b.failed('a', 0), b.failed('a', 0)]).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  test('not ready until the delay is over; only the failing container waits', () => {
    const b = new ContainerBackoff(limits);
    b.failed('stuck', 10_000);
    expect(b.ready('stuck', 10_999)).toBe(false);
    expect(b.ready('other', 10_999)).toBe(true);
    expect(b.ready('stuck', 11_000)).toBe(true);
    expect(b.failing('stuck')).toBe(true);
  });

  test('a success ends the streak: the next failure starts at the first delay again', () => {
    const b = new ContainerBackoff(limits);
    b.failed('a', 0);
    b.failed('a', 0);
    b.succeeded('a');
    expect(b.failing('a')).toBe(false);
    expect(b.failed('a', 0)).toBe(1000);
  });

  test('containers no longer listed are forgotten (bounded state)', () => {
    const b = new ContainerBackoff(limits);
    b.failed('a', 0);
    b.failed('b', 0);
    b.retain(new Set(['b']));
    expect(b.size).toBe(1);
    expect(b.ready('a', 0)).toBe(true);
  });

  test('thousands of failures do not overflow the delay', () => {
    const b = new ContainerBackoff(limits);
    let d = 0;
    for (let i = 0; i < 5000; i++) d = b.failed('a', 0);
    expect(d).toBe(5000);
  });
});
