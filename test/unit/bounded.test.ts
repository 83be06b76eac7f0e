import { expect, test } from 'bun:test';
import { mapBounded } from '../../src/bounded.ts';

test('mapBounded: never more than the limit in flight, results in the input order', async () => {
  let inFlight = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const run = mapBounded(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise<void>((resolve) => gates.push(resolve));
    inFlight--;
    return i * 10;
  });
  // release the waiting ones in reverse order, one at a time, until all are done
  while (gates.length > 0 || inFlight > 0) {
    await Promise.resolve();
    const g = gates.pop();
    if (g) g();
    await new Promise((r) => setTimeout(r, 0));
  }
  expect(await run).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  expect(most).toBe(3);
});

test('mapBounded: an empty list, and a limit larger than the list', async () => {
  expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  expect(await mapBounded([1, 2], 50, async (x) => x + 1)).toEqual([2, 3]);
});
