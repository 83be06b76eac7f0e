// Where a container's processes are, seen from this host: which cgroup is the container's, which
// PID namespace level is "in the container", and whether the engine's PIDs mean anything here.
// Pure: the readers (locality.ts, cgroup.ts, host-proc.ts) feed it the kernel's text.
import { startedAtMs } from './boot-time.ts';

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

/**
 * Whether the engine's PidMode puts the container into a namespace it shares with others: anything
 * but its own ('' from Docker, 'private' from Podman). That is pid=host and pid=container:X, and
 * Podman's `ns:<path>` (`--pid=ns:/proc/<pid>/ns/pid`, a namespace joined by path: its inspect
 * writes that form, never `container:`; with /proc/1/ns/pid it is the host's). A form not known to
 * be private counts as shared: without the kernel's word (a remote engine) `ps` and `kill N`
 * inside such a container reach the other processes of that namespace.
 */
export function isSharedPidMode(pidMode: string): boolean {
  return pidMode !== '' && pidMode !== 'private';
}

/**
 * Why the container's PID namespace is shared with processes that are not its own, or null when
 * it is its own. The engine's PidMode is one witness; the kernel is the other, and wins: an init
 * that owns its namespace is PID 1 there (the last entry of its NSpid line). It is not, for
 * example, for a member of a Podman pod that shares the pod's PID namespace, or for an engine
 * whose inspect leaves PidMode empty: then `ps` and `kill N` inside reach others' processes.
 */
export function sharedPidNamespaceWhy(pidMode: string, initNsPids: number[] | null): string | null {
  if (isSharedPidMode(pidMode)) return `pid=${pidMode}`;
  const innermost = initNsPids?.at(-1);
  if (innermost !== undefined && innermost !== 1) {
    return `its init is PID ${innermost} of its PID namespace, not 1; the engine says pid=${pidMode || 'private'}`;
  }
  return null;
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
 * Slack at each end of the engine's window for its init's fork (see startMatches): boot time in
 * /proc/stat is whole seconds (up to 1 s off) and drifts from the wall clock with NTP slews
 * (seconds over weeks of uptime); 10 s covers both. A PID from another machine or VM (Docker
 * Desktop, colima, an ssh-forwarded socket) that also started inside the window is the
 * coincidence this check cannot exclude (the cgroup check can).
 */
export const START_TOLERANCE_MS = 10_000;

/** What the engine says about when its container's init could have been forked. */
export interface EngineStartWindow {
  /** Created (RFC 3339): the init is forked after it. */
  created: string;
  /** State.StartedAt: taken once `runc start` returned, after the fork. */
  startedAt: string;
  /** State.FinishedAt: the end of the previous run of a restarted container ("0001-..." before any). */
  finishedAt: string;
}

/**
 * Whether the init seen here started when the engine says its container started: forked after
 * the container was created (and after its previous run finished) and before the engine recorded
 * it as started, give or take START_TOLERANCE_MS. Not a window around StartedAt alone: the init is
 * forked at `runc create` and StartedAt is taken after `runc start` returned, usually 0.5 s later
 * (test/fixtures/layout/init-start.json) but 10 s and more on a host at its knees, exactly when
 * pidwarden is needed (test/workload/slow-start-runtime stages 12 s). Without a Created, the
 * window is StartedAt ± the tolerance.
 */
export function startMatches(startTicks: number, bootTimeSeconds: number, engine: EngineStartWindow): boolean {
  const started = Date.parse(engine.startedAt);
  if (!Number.isFinite(started)) return false;
  const forked = startedAtMs(startTicks, bootTimeSeconds);
  if (forked > started + START_TOLERANCE_MS) return false;
  // 0001-01-01 (never finished, Go's zero time) and anything after StartedAt bound nothing
  const after = [Date.parse(engine.created), Date.parse(engine.finishedAt)].filter((t) => Number.isFinite(t) && t > 0 && t <= started);
  const earliest = after.length > 0 ? Math.max(...after) : started;
  return forked >= earliest - START_TOLERANCE_MS;
}
