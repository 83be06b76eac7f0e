// Pure parsers for the cgroup side of the kernel: /proc/<pid>/cgroup, /proc/self/mountinfo and
// the pids controller's files. No I/O here, so every branch is tested on verbatim fixtures.
import { containerCgroupPath } from './layout.ts';

export interface ProcCgroup {
  /** v1 hierarchies: controller name -> path (e.g. "pids" -> "/docker/<id>"). */
  v1: Map<string, string>;
  /** The v2 unified path (line "0::<path>"), when present. */
  v2: string | null;
}

/** Lines look like "8:pids:/docker/<id>" (v1) or "0::/system.slice/docker-<id>.scope" (v2). */
export function parseProcCgroup(text: string): ProcCgroup {
  const v1 = new Map<string, string>();
  let v2: string | null = null;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.slice(0, first) === '0' && controllers === '') v2 = path;
    else for (const c of controllers.split(',')) if (c) v1.set(c, path);
  }
  return { v1, v2 };
}

export interface Mount {
  /** The path inside the mounted filesystem that is mounted (field 4); "/" for a whole hierarchy. */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    mounts.push({
      root: unescapeMount(left[3]!),
      mountPoint: unescapeMount(left[4]!),
      fsType: right[0]!,
      superOptions: right[2]!.split(','),
    });
  }
  return mounts;
}

/** mountinfo escapes space, tab, newline and backslash as \040, \011, \012, \134. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export interface PidsCgroupCandidate {
  dir: string;
  version: 1 | 2;
  /** The hierarchy's top as mounted here (`dir` is at or below it): where a walk up stops. */
  top: string;
}

/**
 * Where a process's pids controller files live, most specific first. v1 (a "pids" hierarchy) wins
 * over v2 on hybrid hosts: there the unified tree has no pids controller (pids.max is absent).
 * With cgroupRoot set (pidwarden in a container with the host's /sys/fs/cgroup mounted elsewhere)
 * mountinfo is not trusted and the usual layouts under that root are tried instead.
 */
export function pidsCgroupCandidates(
  cg: ProcCgroup,
  mounts: Mount[],
  cgroupRoot?: string,
): PidsCgroupCandidate[] {
  return cgroupCandidates(cg, mounts, 'pids', cgroupRoot);
}

/**
 * Directory names a v1 controller is commonly mounted under, below a --cgroup-root: systemd mounts
 * cpu and cpuacct together as "cpu,cpuacct" (and links "cpuacct" to it), others mount it alone.
 */
const V1_DIR_NAMES: Record<string, string[]> = { pids: ['pids'], cpuacct: ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'] };

/** Candidate directories of a v1 controller (or the v2 unified group), most specific first. */
export function cgroupCandidates(
  cg: ProcCgroup,
  mounts: Mount[],
  controller: string,
  cgroupRoot?: string,
): PidsCgroupCandidate[] {
  const out: PidsCgroupCandidate[] = [];
  const v1Path = cg.v1.get(controller);
  if (cgroupRoot) {
    const root = cgroupRoot.replace(/\/+$/, '');
    if (v1Path !== undefined) {
      for (const name of V1_DIR_NAMES[controller] ?? [controller]) {
        out.push({ dir: joinPath(root, name, v1Path), version: 1, top: joinPath(root, name) });
      }
    }
    if (cg.v2 !== null) {
      out.push({ dir: joinPath(root, cg.v2), version: 2, top: joinPath(root) });
      out.push({ dir: joinPath(root, 'unified', cg.v2), version: 2, top: joinPath(root, 'unified') });
    }
    return out;
  }
  if (v1Path !== undefined) {
    for (const m of mounts) {
      if (m.fsType === 'cgroup' && m.superOptions.includes(controller)) {
        const rel = relativeTo(v1Path, m.root);
        if (rel !== null) out.push({ dir: joinPath(m.mountPoint, rel), version: 1, top: joinPath(m.mountPoint) });
      }
    }
  }
  if (cg.v2 !== null) {
    for (const m of mounts) {
      if (m.fsType === 'cgroup2') {
        const rel = relativeTo(cg.v2, m.root);
        if (rel !== null) out.push({ dir: joinPath(m.mountPoint, rel), version: 2, top: joinPath(m.mountPoint) });
      }
    }
  }
  return out;
}

/**
 * The same paths, each moved up to the container's own cgroup (layout.ts, containerCgroupPath);
 * a hierarchy in which no segment names the container is dropped.
 */
export function containerPaths(cg: ProcCgroup, containerId: string): ProcCgroup {
  const v1 = new Map<string, string>();
  for (const [controller, path] of cg.v1) {
    const own = containerCgroupPath(path, containerId);
    if (own !== null) v1.set(controller, own);
  }
  return { v1, v2: cg.v2 === null ? null : containerCgroupPath(cg.v2, containerId) };
}

/**
 * The directories from `dir` up to, not including, `top`: where a pids.max can bite. Most
 * specific first. A `dir` outside `top` gives just itself.
 */
export function dirsUpTo(dir: string, top: string): string[] {
  const out = [dir];
  if (!dir.startsWith(top === '/' ? '/' : top + '/')) return out;
  for (let d = dir.slice(0, dir.lastIndexOf('/')); d.length > top.length && d !== ''; d = d.slice(0, d.lastIndexOf('/'))) out.push(d);
  return out;
}

/** CPU time used by a cgroup, in nanoseconds: v1 cpuacct.usage (ns), v2 cpu.stat usage_usec (µs). */
export function parseCpuUsageNs(text: string, version: 1 | 2): number | null {
  if (version === 1) {
    const t = text.trim();
    return /^\d+$/.test(t) ? Number(t) : null;
  }
  const m = /^usage_usec (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** The part of `path` below `root`, or null when path is outside the mounted subtree. */
function relativeTo(path: string, root: string): string | null {
  if (root === '/' || root === '') return path;
  if (path === root) return '/';
  if (path.startsWith(root + '/')) return path.slice(root.length);
  return null;
}

function joinPath(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '') || '/';
}

/** pids.max holds a number or "max" (no limit). */
export function parsePidsValue(text: string): number | null {
  const t = text.trim();
  if (t === 'max') return null;
  // Number('') is 0: an empty or odd read ("", "0x19", "1e3") must be unknown, not a count.
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** cgroup.procs: one PID a line. */
export function parsePidList(text: string): number[] {
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    if (/^[1-9][0-9]{0,9}$/.test(line)) pids.push(Number(line));
  }
  return pids;
}

/**
 * Memory in use the way `docker stats` shows it: usage minus inactive page cache (v1 memory.stat
 * `total_inactive_file`, v2 `inactive_file`). The limit: v1 memory.limit_in_bytes holds a huge
 * number (9223372036854771712) and v2 memory.max holds "max" when unlimited; like the engine, we
 * then report the host's memory. null when the files don't parse.
 */
export function memoryFromCgroup(
  usageText: string,
  statText: string,
  limitText: string,
  version: 1 | 2,
  hostTotalBytes: number,
): { usageBytes: number; limitBytes: number } | null {
  const usage = parsePidsValue(usageText);
  if (usage === null) return null;
  const key = version === 1 ? 'total_inactive_file' : 'inactive_file';
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(statText);
  const inactive = m ? Number(m[1]) : 0;
  const limit = parsePidsValue(limitText);
  const unlimited = limit === null || limit >= 2 ** 62 || limit > hostTotalBytes;
  return { usageBytes: inactive < usage ? usage - inactive : usage, limitBytes: unlimited ? hostTotalBytes : limit };
}
