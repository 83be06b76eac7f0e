// Per-container backoff for the monitor. A container whose watch failed (a probe that timed out,
// an engine error about that one container) is watched again only after a delay that doubles
// with each consecutive failure, so one stuck container costs one probe per backoff window
// instead of one per --interval, while every other container is watched as usual.

/** The first delay after a failure; then 2x, 4x, ... up to maxMs. */
export interface BackoffLimits {
  firstMs: number;
  maxMs: number;
}

interface Entry {
  failures: number;
  notBeforeMs: number;
}

export class ContainerBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: BackoffLimits) {}

  /** Whether the container may be watched now (never failed, or its delay is over). */
  ready(id: string, nowMs: number): boolean {
    const e = this.entries.get(id);
    return !e || nowMs >= e.notBeforeMs;
  }

  /** Whether the container is in a failure streak (its next watch should avoid what failed). */
  failing(id: string): boolean {
    return this.entries.has(id);
  }

  /** Records one more failure; returns the delay before the next watch, in ms. */
  failed(id: string, nowMs: number): number {
    const failures = (this.entries.get(id)?.failures ?? 0) + 1;
    const delayMs = Math.min(this.limits.maxMs, this.limits.firstMs * 2 ** Math.min(failures - 1, 30));
    this.entries.set(id, { failures, notBeforeMs: nowMs + delayMs });
    return delayMs;
  }

  /** A watch that went through: the streak is over. */
  succeeded(id: string): void {
    this.entries.delete(id);
  }

  /** Forget containers no longer listed, so a monitor running for weeks holds only live ones. */
  retain(live: Set<string>): void {
    for (const id of this.entries.keys()) if (!live.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
