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

/**
 * How long the cheap figures alone may vouch for a container before it is looked at in full.
 * cgroup.procs leaves zombies out, and without a pids limit pids.current is compared with
 * nothing: a PID 1 that never reaps piled up zombies (8 over --max-procs 8, each `npm exec` whose
 * server died) that the cheap check read as 1 process for as long as the monitor ran, while
 * `audit` said critical and `cleanup` restarted it. Zombies pile up over minutes to hours (the
 * founding case: 226 -> 536 processes in 5 hours); a full look every 5 minutes, and at the
 * first sight of a container, catches them at one look per container per 5 minutes.
 */
export const FULL_LOOK_EVERY_MS = 5 * 60_000;

export class MonitorState {
  private readonly byId = new Map<string, Remembered>();
  /** When each container was last looked at in full (ps or the host's /proc, zombies included). */
  private readonly fullLookAt = new Map<string, number>();

  /** Whether the cheap figures may vouch for the container now: looked at in full within FULL_LOOK_EVERY_MS. */
  fullLookDue(id: string, nowMs: number): boolean {
    const at = this.fullLookAt.get(id);
    return at === undefined || nowMs - at >= FULL_LOOK_EVERY_MS || nowMs < at;
  }

  lookedInFull(id: string, nowMs: number): void {
    this.fullLookAt.set(id, nowMs);
  }

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
    for (const id of this.fullLookAt.keys()) if (!liveIds.has(id)) this.fullLookAt.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
