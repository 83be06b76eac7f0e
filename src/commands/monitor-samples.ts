// The monitor's growth samples: one a container when due (SAMPLE_EVERY_MS since its last), written
// to the state file in one batch at the end of a cycle, so a monitor cycling every 30 s writes the
// file about once a minute, not once a cycle. Bounded: forgotten with the container.
import { growthOver, WINDOWS_MS } from '../decide/growth.ts';
import { downsample, SAMPLE_EVERY_MS, type SampleRow, type StateStore } from '../state/state-file.ts';

interface Pending {
  id: string;
  name: string;
  row: SampleRow;
  forksRefused: number | null;
}

/**
 * A healthy container's sample from the cheap check: its tasks (pids.current, zombies and threads
 * included, as in every sample), but no process count. cgroup.procs leaves zombies out, the full
 * looks (and the audit) count them: a container holding 8 zombies read 1 process on its cheap
 * samples and 9 on its full look every 5 minutes, and the mix was growth that was not there.
 */
export function cheapSampleRow(nowMs: number, snap: { current: number | null }): SampleRow {
  return [nowMs, null, null, snap.current];
}

export class GrowthSampler {
  private readonly lastAt = new Map<string, number>();
  private pending: Pending[] = [];
  /** Each container's recent samples (the state file's at start, then ours), for /metrics' growth. */
  private readonly recent = new Map<string, SampleRow[]>();
  private seeded: Record<string, SampleRow[]> | null = null;

  constructor(private readonly store: StateStore) {}

  /** Processes per hour over the last hour (else 6 hours), as the audit computes it; null: too few samples. */
  perHour(id: string, nowMs: number): number | null {
    const rows = this.recent.get(id) ?? [];
    const samples = rows.map(([t, processes, trees, tasks]) => ({ t, processes, trees, tasks }));
    const figures = { maxProcs: Number.MAX_SAFE_INTEGER, pidsMax: null, processes: null, tasks: null };
    for (const w of WINDOWS_MS) {
      const g = growthOver(samples, nowMs, w, figures);
      if (g.perHour !== null) return g.perHour;
    }
    return null;
  }

  due(id: string, nowMs: number): boolean {
    return nowMs - (this.lastAt.get(id) ?? 0) >= SAMPLE_EVERY_MS;
  }

  add(id: string, name: string, row: SampleRow, forksRefused: number | null): void {
    this.lastAt.set(id, row[0]);
    this.pending.push({ id, name, row, forksRefused });
    // One read of the state file for the monitor's life: the history a restart of it would lose.
    this.seeded ??= Object.fromEntries(Object.entries(this.store.snapshot().containers).map(([k, r]) => [k, r.samples ?? []]));
    const before = this.recent.get(id) ?? this.seeded[id] ?? [];
    this.recent.set(id, downsample([...before, row].sort((a, b) => a[0] - b[0]), row[0]));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.store.recordSamples(batch);
  }

  retain(liveIds: Set<string>): void {
    for (const id of this.lastAt.keys()) if (!liveIds.has(id)) this.lastAt.delete(id);
    for (const id of this.recent.keys()) if (!liveIds.has(id)) this.recent.delete(id);
  }
}
