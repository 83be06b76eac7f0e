// Per-container memory of the monitor, bounded: a few numbers per live container, and dropped when
// the container goes, so weeks of containers coming and going leave nothing behind.
import { decideRestart, pruneHistory, type RestartLimit } from '../decide/restart-policy.ts';
import type { RestartGate } from '../act/ladder-run.ts';

export interface KnownCgroup {
  dir: string;
  version: 1 | 2;
  /** Where the effective pids.max is (a parent's can be smaller than the container's own). */
  maxDir?: string;
}

interface Remembered {
  initPid: number;
  cgroup: KnownCgroup | null;
  restarts: number[];
}

export class MonitorState implements RestartGate {
  private readonly byId = new Map<string, Remembered>();

  constructor(private readonly limit: RestartLimit) {}

  /** undefined: not looked up yet for this init PID; null: looked up, not found. */
  cgroupFor(id: string, initPid: number): KnownCgroup | null | undefined {
    const r = this.byId.get(id);
    return r && r.initPid === initPid ? r.cgroup : undefined;
  }

  rememberCgroup(id: string, initPid: number, cgroup: KnownCgroup | null): void {
    const r = this.byId.get(id);
    if (r) {
      r.initPid = initPid;
      r.cgroup = cgroup;
    } else this.byId.set(id, { initPid, cgroup, restarts: [] });
  }

  /** Forget containers that are no longer selected. */
  retain(liveIds: Set<string>): void {
    for (const id of this.byId.keys()) if (!liveIds.has(id)) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  check(id: string, nowMs: number) {
    return decideRestart(this.byId.get(id)?.restarts ?? [], nowMs, this.limit);
  }

  record(id: string, nowMs: number): void {
    const r = this.byId.get(id) ?? { initPid: 0, cgroup: null, restarts: [] };
    r.restarts = pruneHistory([...r.restarts, nowMs], nowMs, this.limit);
    // A restart gives the container a new init PID and maybe a new cgroup: look it up again.
    r.initPid = 0;
    this.byId.set(id, r);
  }
}
