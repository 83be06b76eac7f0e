// The container's processes read from the host's /proc: the fallback when the container has no
// `ps`, when exec cannot run (a container at its pids limit cannot fork runc's init), and the
// source of host PIDs for killing without exec. Only root (or CAP_SYS_PTRACE) sees every cmdline.
import type { Layout, Proc } from '../types.ts';
import { readdir, readlink } from 'node:fs/promises';
import { readBytes, readText } from './fs.ts';
import { sharedNamespaceMembers } from './cgroup.ts';
import { containerMembers } from './pid-namespace.ts';
import { nsPidAtDepth } from './layout.ts';
import { parseCmdline, parseNsPid, parseProcStats } from './proc-stat.ts';

/**
 * Reads stat, cmdline and status of each host PID; PIDs that vanished meanwhile are skipped, and
 * so are processes without a PID at the container's level (`nsDepth`, layout.ts): not in its
 * namespace. A process in a namespace nested inside the container keeps its container-level PID.
 */
export async function readHostProcs(hostPids: number[], procRoot: string, nsDepth: number): Promise<Proc[]> {
  const rows = await Promise.all(hostPids.map((hp) => readOne(hp, procRoot, nsDepth)));
  const alive = rows.filter((r): r is HostRow => r !== null);
  // Parent PIDs in /proc/<pid>/stat are host PIDs; translate them to the container's namespace.
  // PID 1's parent (containerd-shim) is outside the container: 0, as ps inside prints it.
  const nsPidOfHost = new Map(alive.map((r) => [r.hostPid, r.nsPid]));
  return alive.map((r) => ({
    pid: r.nsPid,
    ppid: nsPidOfHost.get(r.hostPpid) ?? 0,
    hostPid: r.hostPid,
    command: r.command,
    comm: r.comm,
    state: r.state,
    startTicks: r.startTicks,
    threads: r.threads,
    ...(r.nestedInit ? { nestedInit: true } : {}),
  }));
}

interface HostRow {
  hostPid: number;
  hostPpid: number;
  nsPid: number;
  command: string;
  comm: string;
  state: string;
  startTicks: number;
  threads: number;
  /** PID 1 of a namespace nested inside the container's: NSpid deeper than `nsDepth`, ending in 1. */
  nestedInit: boolean;
}

async function readOne(hostPid: number, procRoot: string, nsDepth: number): Promise<HostRow | null> {
  const base = `${procRoot}/${hostPid}`;
  const [statText, cmdline, status] = await Promise.all([
    readText(`${base}/stat`),
    readBytes(`${base}/cmdline`),
    readText(`${base}/status`),
  ]);
  const stat = statText === null ? undefined : parseProcStats(statText)[0];
  if (!stat || stat.pid !== hostPid) return null;
  const nspids = status === null ? null : parseNsPid(status);
  if (nspids === null) return null;
  const nsPid = nsPidAtDepth(nspids, nsDepth);
  if (nsPid === null) return null;
  const nestedInit = nspids.length > nsDepth && nspids.at(-1) === 1;
  let command = cmdline === null ? '' : parseCmdline(cmdline);
  // Zombies and kernel threads have an empty cmdline; ps prints them as [comm], so do we. So is a
  // cmdline not read within CMDLINE_READ_DEADLINE_MS (src/observe/fs.ts): matched by no pattern,
  // such a process is no victim (a cleanup missed, never a wrong kill).
  if (command === '') command = `[${stat.comm}]`;
  return {
    hostPid,
    hostPpid: stat.ppid,
    nsPid,
    command,
    comm: stat.comm,
    state: stat.state,
    startTicks: stat.startTicks,
    threads: stat.threads,
    nestedInit,
  };
}

/** A zombie's host PID and its parent's (the process that has not reaped it). */
export interface Zombie {
  pid: number;
  ppid: number;
}

/** The host's zombies by PID namespace (the target of /proc/<pid>/ns/pid, e.g. `pid:[4026532451]`). */
export type ZombiesByNamespace = Map<string, Zombie[]>;

/**
 * One pass over the host's /proc: every zombie, by PID namespace. `skip`: PIDs known to be live
 * (a container's cgroup members: an exited task leaves cgroup.procs at once, so none of them is
 * a zombie). Cost: one stat read per host process, one readlink per zombie.
 */
export async function scanZombies(procRoot: string, skip: ReadonlySet<number> = new Set()): Promise<ZombiesByNamespace> {
  const out: ZombiesByNamespace = new Map();
  let entries: string[] = [];
  try {
    entries = await readdir(procRoot);
  } catch {
    return out;
  }
  await Promise.all(
    entries.map(async (e) => {
      if (!/^[1-9]\d*$/.test(e) || skip.has(Number(e))) return;
      try {
        const stat = parseProcStats((await readText(`${procRoot}/${e}/stat`)) ?? '')[0];
        if (stat?.state !== 'Z') return;
        const ns = await readlink(`${procRoot}/${e}/ns/pid`);
        const zombie = { pid: Number(e), ppid: stat.ppid };
        const list = out.get(ns);
        if (list) list.push(zombie);
        else out.set(ns, [zombie]);
      } catch {
        // exited meanwhile, or a kernel thread
      }
    }),
  );
  return out;
}

/**
 * One scanZombies shared by every container of one audit, started by the first that asks: the
 * host's /proc is read once per audit, not once per container (200 containers of 10 processes
 * were 200 scans of 2,000 entries). A process that exits after the scan and before its
 * container's cgroup.procs is read is missed by that audit's table; pids.current still counts it.
 */
export function sharedZombieScan(procRoot: string): () => Promise<ZombiesByNamespace> {
  let scan: Promise<ZombiesByNamespace> | null = null;
  return () => (scan ??= scanZombies(procRoot));
}

/**
 * Host PIDs of every process in the container: cgroup.procs, plus the zombies in the init
 * process's PID namespace whose parent is a member. An exited task leaves cgroup.procs at once (and its /proc/<pid>/cgroup
 * then names the root on cgroup v1: checked on this host) but keeps its PID and one unit of
 * pids.current until its parent reaps it. Only zombies: a live process of that namespace outside
 * the cgroup belongs to another container (a `--pid=container:X` sidecar shares X's namespace).
 * In a shared namespace (pid=host, pid=container:X) the namespace is not the container's at all:
 * the cgroup alone says what is (not a sub-cgroup named after another container). The init's namespace and its depth are the layout's, read once
 * (locality.ts); without a namespace, only the container's own cgroup counts (containerMembers).
 * `zombies`: an audit's shared scan (sharedZombieScan); without it, a scan of this container's
 * own, after its cgroup.procs.
 */
export async function containerHostPids(
  cgroupDir: string,
  procRoot: string,
  layout: Pick<Layout, 'sharedPidNamespace' | 'nsDepth' | 'pidNamespace'>,
  zombies?: () => Promise<ZombiesByNamespace>,
): Promise<number[]> {
  if (layout.sharedPidNamespace) {
    const { own, nested } = sharedNamespaceMembers(cgroupDir);
    return own.concat(nested);
  }
  const ns = layout.pidNamespace ?? null;
  const members = new Set(containerMembers(cgroupDir, procRoot, layout.nsDepth, ns, false));
  if (ns === null) return [...members];
  const found = zombies ? await zombies() : await scanZombies(procRoot, members);
  // Only those whose parent is one of ours: a `--pid=container:X` sidecar's processes live in X's
  // namespace too, and a zombie its own process has not reaped is the sidecar's, not X's (it was
  // counted in X, as X's zombies). An orphan's parent is the namespace's init, X's: counted here.
  for (const z of found.get(ns) ?? []) if (members.has(z.ppid)) members.add(z.pid);
  return [...members];
}
