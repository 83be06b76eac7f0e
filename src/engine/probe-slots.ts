// At most --concurrency observations of one engine's containers in flight at once, whoever asks:
// cleanup starts a ladder per selected container and the monitor a watch per container each cycle,
// and every ladder looks again after each step. Unbounded, `cleanup --all` on 500 containers sent
// 500 `docker exec ps` at once (each a runc process, ~28 ms of engine CPU: README, Performance),
// and a monitor of a remote engine (no cheap cgroup check) did so every cycle. audit bounds its one
// list with mapBounded (src/bounded.ts); these slots are for work started from many places.
import type { Engine } from './client.ts';

/** At most `limit` calls of run() in flight; the others wait their turn, in order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.free = Math.max(1, limit);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // the slot passes straight to the next in line, or is free again
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const slotsOf = new WeakMap<Engine, Slots>();

/** The engine's probe slots (one Engine per command run); the first caller's limit sets their number. */
export function probeSlots(engine: Engine, limit: number): Slots {
  let slots = slotsOf.get(engine);
  if (!slots) {
    slots = new Slots(limit);
    slotsOf.set(engine, slots);
  }
  return slots;
}
