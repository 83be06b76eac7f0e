// Per-container memory of the monitor, bounded: a few numbers per live container, and dropped when
// the container goes, so weeks of containers coming and going leave nothing behind. (Restart
// history lives in the state file, shared with cleanup: src/state/state-file.ts.)

export interface KnownCgroup {
  dir: string;
  version: 1 | 2;
  /**
   * `dir`, then its parents up to the hierarchy's top: where a limit can bite (a parent's, shared
   * with other cgroups, can leave the container less room than its own: pids-ceiling.ts).
   */
  limitDirs: string[];
}

interface Remembered {
  initPid: number;
  cgroup: KnownCgroup | null;
}

export class MonitorState {
  private readonly byId = new Map<string, Remembered>();

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
    } else this.byId.set(id, { initPid, cgroup });
  }

  /** Forget containers that are no longer selected. */
  retain(liveIds: Set<string>): void {
    for (const id of this.byId.keys()) if (!liveIds.has(id)) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
