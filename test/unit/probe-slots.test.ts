// Slots (src/engine/probe-slots.ts): at most N observations in flight whoever starts them, the
// rest in order. cleanup --all on 500 containers sent 500 `docker exec ps` at once before.
import { expect, test } from 'bun:test';
import { Slots } from '../../src/engine/probe-slots.ts';

/** A task that ends when the test says so, recording how many ran at once. */
function gate() {
  let inFlight = 0;
  let most = 0;
  const order: number[] = [];
  const releases = new Map<number, () => void>();
  const task = (i: number) => async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    order.push(i);
    await new Promise<void>((resolve) => releases.set(i, resolve));
    inFlight--;
    return i;
  };
  return { task, release: (i: number) => releases.get(i)?.(), started: () => [...order], most: () => most };
}

/** Waits until `cond` holds, turning the event loop; fails after 2 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('never more than the limit in flight; the waiting ones start in the order they asked', async () => {
  const slots = new Slots(2);
  const g = gate();
  const all = [0, 1, 2, 3, 4].map((i) => slots.run(g.task(i)));
  await Promise.resolve();
  expect(g.started()).toEqual([0, 1]);
  for (const [i, startedThen] of [[1, 3], [0, 4], [2, 5], [3, 5], [4, 5]] as const) {
    g.release(i);
    await until(() => g.started().length === startedThen);
  }
  expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
  expect(g.most()).toBe(2);
  expect(g.started()).toEqual([0, 1, 2, 3, 4]);
});

test('a task that throws frees its slot', async () => {
  const slots = new Slots(1);
  await expect(slots.run(async () => Promise.reject(new Error('exec refused')))).rejects.toThrow('exec refused');
  expect(await slots.run(async () => 'next')).toBe('next');
});

test('a limit below 1 is 1', async () => {
  const slots = new Slots(0);
  const g = gate();
  const a = slots.run(g.task(0));
  const b = slots.run(g.task(1));
  await Promise.resolve();
  expect(g.started()).toEqual([0]);
  g.release(0);
  await until(() => g.started().length === 2);
  g.release(1);
  expect(await Promise.all([a, b])).toEqual([0, 1]);
});
