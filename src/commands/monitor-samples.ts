// The monitor's growth samples: one a container when due (SAMPLE_EVERY_MS since its last), written
// to the state file in one batch at the end of a cycle, so a monitor cycling every 30 s writes the
// file about once a minute, not once a cycle. Bounded: forgotten with the container.
import { SAMPLE_EVERY_MS, type SampleRow, type StateStore } from '../state/state-file.ts';

interface Pending {
  id: string;
  name: string;
  row: SampleRow;
  forksRefused: number | null;
}

export class GrowthSampler {
  private readonly lastAt = new Map<string, number>();
  private pending: Pending[] = [];

  constructor(private readonly store: StateStore) {}

  due(id: string, nowMs: number): boolean {
    return nowMs - (this.lastAt.get(id) ?? 0) >= SAMPLE_EVERY_MS;
  }

  add(id: string, name: string, row: SampleRow, forksRefused: number | null): void {
    this.lastAt.set(id, row[0]);
    this.pending.push({ id, name, row, forksRefused });
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.store.recordSamples(batch);
  }

  retain(liveIds: Set<string>): void {
    for (const id of this.lastAt.keys()) if (!liveIds.has(id)) this.lastAt.delete(id);
  }
}
