// At most `limit` of `items` in flight at once, results in the items' order. 500 containers must
// never mean 500 simultaneous `docker exec ps` (each one a runc process, ~28 ms of engine CPU:
// README, Performance); a small multiple of the CPU count keeps the engine busy without a queue.
import { availableParallelism } from 'node:os';

/** --concurrency's default: 4 probes per CPU (the engine's work per exec is short and mostly waiting). */
export function defaultConcurrency(): number {
  return Math.max(2, 4 * availableParallelism());
}

export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
