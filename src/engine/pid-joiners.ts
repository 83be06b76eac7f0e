// Which containers share another's PID namespace: `docker run --pid=container:X`, compose
// `pid: "service:x"` and `pid: "container:x"` put a container's processes in X's namespace, where
// X's `ps` lists them and X's `kill N` reaches them, while X's own HostConfig.PidMode stays ''.
// So does Podman's `--pid=ns:/proc/<pid>/ns/pid`, whose PidMode `ns:<path>` names no container.
// With a cgroup view (the host's /proc, a local engine) X's table keeps to X's cgroup; without one
// (a remote engine, or pidwarden in a PID namespace of its own) only this tells that X's `ps`
// shows other containers' processes, so X is observed from the API only (src/observe/locality.ts).
import type { Engine } from './client.ts';
import type { ContainerInfo } from './containers.ts';
import { inspectById, listedName } from './containers.ts';
import { INSPECTS_AT_ONCE, listWithPaused } from './listing.ts';
import { mapBounded } from '../bounded.ts';

export interface PidModeOf {
  id: string;
  name: string;
  pidMode: string;
  /** When the engine created the container, in ms; NaN when not said. */
  createdMs: number;
  /**
   * createdMs is the inspect's Created (RFC 3339, read to the millisecond); otherwise it is the
   * listing's, whole seconds with the fraction cut off: the creation was up to 999 ms later.
   */
  createdExact?: boolean;
  /** When the container's current run started (its inspect's State.StartedAt); '' when not read. */
  startedAt: string;
}

/** An audit of 200 remote containers asks once, not 200 times: a listing serves for 1 s. */
const LISTING_REUSE_MS = 1_000;

/** PidMode and Created (the inspect's, to the ms) by container ID, per engine: fixed when a container is created, so inspected once. */
const pidModes = new Map<string, Map<string, { pidMode: string; createdMs: number }>>();
const recentListings = new Map<string, { atMs: number; modes: Promise<PidModeOf[]> }>();

/** Names of the running containers whose PID namespace is `target`'s, sorted. */
export async function pidNamespaceJoiners(engine: Engine, target: Pick<ContainerInfo, 'id' | 'name'>): Promise<string[]> {
  return joinersAmong(await pidModesNow(engine), target);
}

/**
 * Pure: the joiners of `target` among the listed containers. Throws when a `container:<name>`
 * names no listed container: the engine keeps the name as given and resolves it when the joiner
 * starts, so after `docker rename web web-old` the joiner of web-old reads `container:web`, and
 * whose namespace it is in cannot be told from the listing (the caller then refuses).
 */
export function joinersAmong(modes: readonly PidModeOf[], target: Pick<ContainerInfo, 'id' | 'name'>): string[] {
  const { joiners, unresolved } = joinersOf(modes, target);
  if (unresolved.length > 0) throw new Error(unresolvedWhy(unresolved));
  return joiners;
}

/**
 * Pure: the joiners of `target` by name or ID, and, apart, the containers whose `container:<ref>`
 * cannot be shown to name the container whose namespace they joined (any of them may be in
 * `target`'s namespace, or in another's). The engine resolves the ref when the joiner starts, and
 * keeps it as given: after `docker rename web web-old; docker run --name web ...` a joiner of
 * web-old reads `container:web`, and the web it names now was created after the joiner started,
 * so it cannot be the one joined. A container named by the ref counts as the joined one only when
 * it was created before the joiner's current run started; one created after it never does; with
 * a time unknown, it may be (a joiner of it) and may not (unresolved).
 */
export function joinersOf(modes: readonly PidModeOf[], target: Pick<ContainerInfo, 'id' | 'name'>): { joiners: string[]; unresolved: PidModeOf[] } {
  const unresolved = modes.filter(
    (m) => joinsByPath(m.pidMode) || (m.pidMode.startsWith('container:') && !modes.some((o) => o.id !== m.id && joins(m.pidMode, o) && createdAfterJoinerStart(o, m) === false)),
  );
  const targetListed = modes.find((o) => o.id === target.id);
  const joiners = modes
    .filter((m) => m.id !== target.id && joins(m.pidMode, target) && (targetListed === undefined || createdAfterJoinerStart(targetListed, m) !== true))
    .map((m) => m.name)
    .sort();
  return { joiners, unresolved };
}

/**
 * Whether `holder` was created after `joiner`'s current run started; null when either time is
 * unknown, or when the two cannot be told apart. Both times are cut off, never rounded up: Date.parse
 * keeps whole milliseconds of StartedAt's nanoseconds, and the listing's Created keeps whole
 * seconds. So a Created that reads later than the start is later; one that reads earlier is earlier
 * only by more than what was cut off (1 ms for the inspect's, 1,000 ms for the listing's). A holder
 * created 0.6 s after the joiner started, in the same second, reads as created 0.1 s before it by
 * the listing: taken for the container joined, it hid the joiner from the one it joined.
 */
function createdAfterJoinerStart(holder: PidModeOf, joiner: PidModeOf): boolean | null {
  const startedMs = Date.parse(joiner.startedAt);
  if (!Number.isFinite(holder.createdMs) || !Number.isFinite(startedMs)) return null;
  if (holder.createdMs > startedMs) return true;
  return holder.createdMs + (holder.createdExact === true ? 1 : 1_000) <= startedMs ? false : null;
}

export function unresolvedWhy(unresolved: readonly PidModeOf[]): string {
  const byRef = unresolved.filter((m) => !joinsByPath(m.pidMode));
  const byPath = unresolved.filter((m) => joinsByPath(m.pidMode));
  const list = (ms: readonly PidModeOf[]) => ms.map((m) => `${m.name} (${m.pidMode})`).join(', ');
  return [
    ...(byRef.length > 0 ? [`${list(byRef)} names no running container created before it started (renamed since?)`] : []),
    ...(byPath.length > 0 ? [`${list(byPath)} joins a PID namespace by path, which names no container`] : []),
  ].join('; ') + ': whose PID namespace it is in cannot be told';
}

/**
 * Podman's `--pid=ns:<path>`: a PID namespace joined by a path such as /proc/<pid>/ns/pid, which
 * its inspect writes as `ns:<path>`. The PID in the path was some process's when the container was
 * created and may be anyone's now: no listing tells whose namespace it is, only the kernel.
 */
export function joinsByPath(pidMode: string): boolean {
  return pidMode.startsWith('ns:');
}

/** Whether the PidMode joins a namespace other than the host's: `container:<ref>` or `ns:<path>`. */
export function joinsAnother(pidMode: string): boolean {
  return pidMode.startsWith('container:') || joinsByPath(pidMode);
}


/** `container:<name>`, `container:<ID or an ID prefix>` (the API keeps what was given). */
export function joins(pidMode: string, target: Pick<ContainerInfo, 'id' | 'name'>): boolean {
  if (!pidMode.startsWith('container:')) return false;
  const ref = pidMode.slice('container:'.length).replace(/^\//, '');
  return ref.length > 0 && (ref === target.name || target.id.startsWith(ref));
}

/** The listed containers' PID modes (a listing serves for LISTING_REUSE_MS). */
export function pidModesNow(engine: Engine): Promise<PidModeOf[]> {
  const nowMs = performance.now();
  const recent = recentListings.get(engine.address);
  if (recent && nowMs - recent.atMs < LISTING_REUSE_MS) return recent.modes;
  const modes = listPidModes(engine);
  recentListings.set(engine.address, { atMs: nowMs, modes });
  // a failed listing is not kept: the next caller asks again
  modes.catch(() => recentListings.get(engine.address)?.modes === modes && recentListings.delete(engine.address));
  return modes;
}

async function listPidModes(engine: Engine): Promise<PidModeOf[]> {
  // The containers that have processes, paused ones too (src/engine/listing.ts): theirs are in the
  // namespace all the same.
  const list = await listWithPaused(engine);
  const known = pidModes.get(engine.address) ?? new Map<string, { pidMode: string; createdMs: number }>();
  const current = new Map<string, { pidMode: string; createdMs: number }>();
  const out = await mapBounded(list, INSPECTS_AT_ONCE, async (c): Promise<PidModeOf | null> => {
    let kept = known.get(c.Id);
    let startedAt = '';
    // a joiner's start changes with each of its runs, and its ref is resolved at each start:
    // read it every listing (joiners are few; the others' PidMode is kept)
    if (kept === undefined || joinsAnother(kept.pidMode)) {
      const info = await inspectById(engine, c.Id);
      if (!info) return null; // removed since the listing
      kept = { pidMode: info.pidMode, createdMs: Date.parse(info.created) };
      startedAt = info.startedAt;
    }
    current.set(c.Id, kept);
    // the name without a '/': the others are aliases of legacy links ("/web/db"), which a
    // `container:<name>` never uses
    const name = listedName(c) ?? c.Id;
    // the inspect's Created to the ms; the listing's (whole seconds) only when the inspect had none
    if (Number.isFinite(kept.createdMs)) return { id: c.Id, name, pidMode: kept.pidMode, createdMs: kept.createdMs, createdExact: true, startedAt };
    const createdMs = typeof c.Created === 'number' ? c.Created * 1000 : Number.NaN;
    return { id: c.Id, name, pidMode: kept.pidMode, createdMs, startedAt };
  });
  // only the containers listed now are kept: a monitor on a host that churns containers stays small
  pidModes.set(engine.address, current);
  return out.filter((m): m is PidModeOf => m !== null);
}
