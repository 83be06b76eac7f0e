// Where a container's processes are, seen from this host: which cgroup is the container's, which
// PID namespace level is "in the container", and whether the engine's PIDs mean anything here.
// Pure: the readers (locality.ts, cgroup.ts, host-proc.ts) feed it the kernel's text.

/** Docker's IDs: 64 lowercase hex digits. */
const FULL_ID = /^[0-9a-f]{64}$/;

/**
 * Whether one cgroup path segment is named after the container: `<id>` (Docker's cgroupfs
 * driver), `docker-<id>.scope` (systemd driver), `libpod-<id>.scope` / `libpod-<id>` (podman),
 * `crio-<id>.scope`, `cri-containerd-<id>.scope`.
 */
export function namesContainer(segment: string, containerId: string): boolean {
  if (!FULL_ID.test(containerId)) return false;
  if (segment === containerId) return true;
  const m = /^([a-z][a-z-]*)-([0-9a-f]{64})(\.scope)?$/.exec(segment);
  return m !== null && m[2] === containerId;
}

/**
 * The container's cgroup path, found by walking up from its init's cgroup path (as in
 * /proc/<pid>/cgroup) to the nearest segment named after the ID; null when no segment is. The
 * init's own leaf is not always the container's: docker:dind moves its PID 1 into `<id>/init`,
 * systemd inside a container puts itself into `<id>/init.scope`, crun can use `<id>/container`.
 * Nearest, not outermost: an inner container of a dind lives at `/docker/<outer>/docker/<inner>`.
 */
export function containerCgroupPath(initPath: string, containerId: string): string | null {
  const parts = initPath.split('/');
  for (let i = parts.length - 1; i > 0; i--) {
    if (namesContainer(parts[i]!, containerId)) return parts.slice(0, i + 1).join('/');
  }
  return null;
}

/** pid=host and pid=container:X put the container into a namespace it shares with others. */
export function isSharedPidMode(pidMode: string): boolean {
  return pidMode === 'host' || pidMode.startsWith('container:');
}

/**
 * A process's PID at the container's level: its NSpid entry at the depth of the container init's
 * namespace (`depth` = number of entries in the init's NSpid line), not the innermost one. A
 * process in a namespace nested inside the container (`unshare -p`, docker:dind, sysbox) has more
 * entries; its innermost PID means nothing to the container's `kill`. null when the process is
 * not that deep (it is not in the container's namespace at all).
 */
export function nsPidAtDepth(nspids: number[], depth: number): number | null {
  if (!Number.isSafeInteger(depth) || depth < 1 || nspids.length < depth) return null;
  return nspids[depth - 1]!;
}

/**
 * USER_HZ, the unit of /proc/<pid>/stat's starttime: 100 on every Linux architecture Docker
 * supports (x86, arm, arm64, ppc64le, s390x: the kernel fixes USER_HZ at 100 for userspace;
 * `getconf CLK_TCK` prints 100 on this host). Bun has no sysconf().
 */
export const USER_HZ = 100;

/**
 * How far the init's start time on this host may be from the engine's State.StartedAt and still
 * be the same process. The init is forked at `runc create`, StartedAt is taken after `runc start`
 * returned (a fraction of a second; more on a loaded host: test/fixtures/layout/init-start.json,
 * captured here, reads 0.55 s before StartedAt); boot time in /proc/stat is whole seconds (up to
 * 1 s off) and drifts from the wall clock with NTP slews (seconds over weeks of uptime). 10 s
 * covers all three with room for a loaded engine; a PID from another machine or VM
 * (Docker Desktop, colima, an ssh-forwarded socket) that also started within 10 s of the
 * engine's claim is the coincidence this check cannot exclude (the cgroup check can).
 */
export const START_TOLERANCE_MS = 10_000;

/** The `btime` line of /proc/stat: boot time in seconds since the epoch; null when absent. */
export function parseBootTime(procStat: string): number | null {
  const m = /^btime (\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : null;
}

/** When a process started, in ms since the epoch, from its starttime ticks and the boot time. */
export function startedAtMs(startTicks: number, bootTimeSeconds: number): number {
  return bootTimeSeconds * 1000 + (startTicks * 1000) / USER_HZ;
}

/** Whether the init seen here started when the engine says its container started. */
export function startMatches(startTicks: number, bootTimeSeconds: number, engineStartedAt: string): boolean {
  const claimed = Date.parse(engineStartedAt);
  if (!Number.isFinite(claimed)) return false;
  return Math.abs(startedAtMs(startTicks, bootTimeSeconds) - claimed) <= START_TOLERANCE_MS;
}
