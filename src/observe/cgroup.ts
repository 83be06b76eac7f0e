// The container's pids controller, found through its init process (/proc/<init pid>/cgroup) and
// our mount table, never through a guessed "/sys/fs/cgroup/pids/docker/<id>" path: systemd's
// cgroup driver, --cgroup-parent and rootless engines all put it elsewhere.
import { readFileSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { readText } from './fs.ts';
import { pidsCeiling, type LimitLevel, type PidsCeiling } from './pids-ceiling.ts';
import type { SharedLimit } from '../types.ts';
import {
  parseMountinfo,
  parsePidList,
  parsePidsValue,
  parseProcCgroup,
  cgroupCandidates,
  containerPaths,
  dirsUpTo,
  parseCpuUsageNs,
  memoryFromCgroup,
  type Mount,
  type PidsCgroupCandidate,
} from './cgroup-parse.ts';

export interface HostPaths {
  procRoot: string;
  cgroupRoot?: string;
}

export interface ContainerCgroup extends PidsCgroupCandidate {
  current: number | null;
  /**
   * The effective limit: the tasks the container may have, the smallest pids.max from `dir` up to
   * the top less what other cgroups under that level use (pids-ceiling.ts); null when none is set.
   */
  max: number | null;
  /** The directory that gives `max` (null when there is no limit). */
  heldBy: string | null;
  /** Set when `heldBy` is a parent that other cgroups use too: its own pids.max and pids.current. */
  shared: SharedLimit | null;
}

/**
 * Where a controller's files for the container may be, most specific first: from its init's
 * /proc/<pid>/cgroup, moved up to the cgroup named after the container's ID, and our mount table
 * (or the layouts under --cgroup-root). Without an ID match there is no candidate: a cgroup not
 * named after the container may be shared with others (rootless engines without a cgroup per
 * container) or be another machine's (layout.ts).
 */
async function candidatesFor(initPid: number, containerId: string, paths: HostPaths, controller: string): Promise<PidsCgroupCandidate[]> {
  if (!Number.isSafeInteger(initPid) || initPid <= 0) return [];
  const [cgText, mounts] = await Promise.all([
    readText(`${paths.procRoot}/${initPid}/cgroup`),
    paths.cgroupRoot ? Promise.resolve([]) : cgroupMounts(paths.procRoot, false),
  ]);
  if (cgText === null) return [];
  const own = containerPaths(parseProcCgroup(cgText), containerId);
  const found = cgroupCandidates(own, mounts, controller, paths.cgroupRoot);
  if (found.length > 0 || paths.cgroupRoot) return found;
  // Placed nowhere by the mounts kept: read the mount table again before saying so.
  return cgroupCandidates(own, await cgroupMounts(paths.procRoot, true), controller, paths.cgroupRoot);
}

/**
 * The cgroup file systems in our mount table, kept per procRoot. The whole table was read and
 * parsed four times per container (pids, CPU twice, memory), and every container adds its own
 * overlay and shm mounts to it: 200 containers meant 800 reads of a 500-line table. The cgroup
 * mounts themselves are set up at boot; they are read again whenever they place no container.
 */
const cgroupMountsOf = new Map<string, Promise<Mount[]>>();

function cgroupMounts(procRoot: string, fresh: boolean): Promise<Mount[]> {
  let mounts = cgroupMountsOf.get(procRoot);
  if (!mounts || fresh) {
    mounts = readText(`${procRoot}/self/mountinfo`).then((t) => parseMountinfo(t ?? '').filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2'));
    cgroupMountsOf.set(procRoot, mounts);
  }
  return mounts;
}

export async function findPidsCgroup(initPid: number, containerId: string, paths: HostPaths): Promise<ContainerCgroup | null> {
  for (const c of await candidatesFor(initPid, containerId, paths, 'pids')) {
    // pids.max is absent at a v2 root and in v2 subtrees without the controller enabled.
    if ((await readText(`${c.dir}/pids.max`)) === null) continue;
    // (a parent whose pids.max cannot be read counts as unlimited there)
    const { current, max, heldBy, shared } = readPidsLevelsSync(dirsUpTo(c.dir, c.top));
    return { ...c, max, heldBy, shared, current };
  }
  return null;
}

/**
 * pids.current of `dirs[0]` (the container's cgroup) and its ceiling over `dirs` (it, then its
 * parents). The parents are read first: a task forked between the reads then counts as the
 * container's, not as another cgroup's (while a storm only adds tasks, the race can widen the
 * room seen, never narrow it).
 * `complete`: every pids.max (and the pids.current beside a number) could be read.
 */
export function readPidsLevelsSync(dirs: readonly string[]): PidsCeiling & { current: number | null; complete: boolean } {
  let complete = true;
  const read = (path: string): number | null => {
    try {
      return parsePidsValue(readFileSync(path, 'utf8'));
    } catch {
      complete = false; // gone meanwhile, most likely
      return null;
    }
  };
  const levels: LimitLevel[] = [];
  for (const dir of dirs.slice(1)) {
    const max = read(`${dir}/pids.max`);
    // the current of an unlimited level is never used
    levels.push({ dir, max, current: max === null ? null : read(`${dir}/pids.current`) });
  }
  const current = read(`${dirs[0]}/pids.current`);
  levels.unshift({ dir: dirs[0]!, max: read(`${dirs[0]}/pids.max`), current });
  return { ...pidsCeiling(current, levels), current, complete };
}

/**
 * Every process (thread-group leader) in the cgroup and its sub-cgroups, as host PIDs.
 * cgroup.procs lists processes, not threads; a container may create child cgroups of its own.
 * Depth is capped at 8: deeper trees do not occur in practice and a cap bounds the work.
 * Synchronous on purpose: tiny pseudo-files read faster that way (0.043 ms per container for the
 * monitor's four reads, against 0.11 ms through fs/promises; measured, 300 rounds). A cgroup that
 * vanishes meanwhile (container stopped) simply has no processes.
 */
export function listCgroupProcs(dir: string): number[] {
  const { own, nested, underNamed } = cgroupMembersSplit(dir);
  return own.concat(nested, underNamed);
}

/**
 * A cgroup directory named after a container (`<id>`, `docker-<id>.scope`, `libpod-<id>.scope`):
 * in a container's cgroup, the cgroup of another container run with `--cgroup-parent` naming it.
 */
export const NAMED_AFTER_A_CONTAINER = /^(?:[a-z][a-z-]*-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * listCgroupProcs in parts, from one walk: the processes of `dir` itself (`own`); those of its
 * sub-cgroups (`nested`); and those in or below a sub-cgroup named after a container
 * (`underNamed`). The engine puts only the container's own processes in its cgroup; a sub-cgroup
 * can hold another container's (`--cgroup-parent` naming this container's cgroup), which
 * pid-namespace.ts tells apart.
 */
export function cgroupMembersSplit(dir: string): { own: number[]; nested: number[]; underNamed: number[] } {
  const out = { own: [] as number[], nested: [] as number[], underNamed: [] as number[] };
  try {
    out.own = parsePidList(readFileSync(`${dir}/cgroup.procs`, 'utf8'));
  } catch {
    return out;
  }
  nestedMembers(dir, 1, false, out);
  return out;
}

/**
 * The members of a container in a shared PID namespace (pid=host, pid=container:X), where no
 * namespace tells its processes from others': its cgroup and sub-cgroups, but not a sub-cgroup
 * named after another container. `docker run --cgroup-parent <X's cgroup>` puts a container Z,
 * with a PID namespace of its own, below X's cgroup; in X's private namespace Z's processes fail
 * the namespace check, in a shared one nothing else would leave them out, and Z's `npm exec` tree
 * was planned and signalled as X's.
 */
export function sharedNamespaceMembers(dir: string): { own: number[]; nested: number[] } {
  const { own, nested } = cgroupMembersSplit(dir);
  return { own, nested };
}

function nestedMembers(dir: string, depth: number, underNamed: boolean, out: { nested: number[]; underNamed: number[] }): void {
  if (depth > 8) return;
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const c of children) {
    const named = underNamed || NAMED_AFTER_A_CONTAINER.test(c);
    try {
      (named ? out.underNamed : out.nested).push(...parsePidList(readFileSync(`${dir}/${c}/cgroup.procs`, 'utf8')));
    } catch {
      continue; // gone meanwhile
    }
    nestedMembers(`${dir}/${c}`, depth + 1, named, out);
  }
}

/** CPU time of the container's cgroup in ns (v1 cpuacct.usage, v2 cpu.stat), for CPU % locally. */
export async function readCpuUsageNs(initPid: number, containerId: string, paths: HostPaths): Promise<number | null> {
  for (const c of await candidatesFor(initPid, containerId, paths, 'cpuacct')) {
    const text = await readText(`${c.dir}/${c.version === 1 ? 'cpuacct.usage' : 'cpu.stat'}`);
    const ns = text === null ? null : parseCpuUsageNs(text, c.version);
    if (ns !== null) return ns;
  }
  return null;
}

/**
 * The monitor's cheap check, synchronous like listCgroupProcs (same measurement).
 * `dirs`: the container's cgroup, then its parents up to the hierarchy's top (where a limit, the
 * container's own or a shared parent's, can bite: readPidsLevelsSync).
 * Returns null when the cgroup is gone (container stopped or removed), and when it lists no
 * process while pids.current counts some: a running container's cgroup holds its init at least,
 * so its members are then not listable from here. The kernel writes cgroup.procs in the reader's
 * PID namespace and leaves out processes without a PID there: read by a pidwarden in a PID
 * namespace of its own (a container without `pid: host`), 0 lines for 10 processes while
 * pids.current read 68 (test/integration/layouts.test.ts). A count of 0 would pass any
 * --max-procs; null sends the container to the full observation (ps in the container).
 */
export function readPidsSnapshotSync(dirs: readonly string[]): { current: number | null; max: number | null; processes: number } | null {
  const { current, max, complete } = readPidsLevelsSync(dirs);
  // a file that could not be read: the cgroup (or a parent) is gone, or a limit is unknown
  if (!complete) return null;
  const processes = listCgroupProcs(dirs[0]!).length;
  if (processes === 0 && current !== null && current > 0) return null;
  return { current, max, processes };
}

/** Memory of the container's cgroup (v1 memory controller or v2), as `docker stats` computes it. */
export async function readMemory(initPid: number, containerId: string, paths: HostPaths): Promise<{ usageBytes: number; limitBytes: number } | null> {
  for (const c of await candidatesFor(initPid, containerId, paths, 'memory')) {
    const [usage, stat, limit] = await Promise.all(
      c.version === 1
        ? [readText(`${c.dir}/memory.usage_in_bytes`), readText(`${c.dir}/memory.stat`), readText(`${c.dir}/memory.limit_in_bytes`)]
        : [readText(`${c.dir}/memory.current`), readText(`${c.dir}/memory.stat`), readText(`${c.dir}/memory.max`)],
    );
    if (usage === null || stat === null || limit === null) continue;
    const mem = memoryFromCgroup(usage, stat, limit, c.version, totalmem());
    if (mem) return mem;
  }
  return null;
}
