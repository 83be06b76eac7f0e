// One container, observed: identity (given), layout, pids, processes, stats. Each collector may
// fail on its own; the failure is recorded in `problems` and the others still report.
import type { Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { Layout, PidsReading, ProcessTable } from '../types.ts';
import { findPidsCgroup, readCpuUsageNs, readMemory, type ContainerCgroup, type HostPaths } from './cgroup.ts';
import { privateCgroupNamespaceHint } from './cgroup-namespace.ts';
import { readLayout } from './locality.ts';
import type { ContainerObservation } from './observation.ts';
import { readPidsCounters } from './pids-limits.ts';
import { readProcesses, readsHostOnly, type ProbeOptions } from './processes.ts';
import { clockMs, readStats, type CpuSample, type StatsReading } from './stats.ts';

export interface ObserveOptions {
  procRoot: string;
  cgroupRoot?: string;
  processes: boolean;
  stats: boolean;
  preferHost?: boolean;
  execTimeoutMs: number;
  /** An audit's one scan of the host's zombies for all its containers (host-proc.ts). */
  zombies?: ProbeOptions['zombies'];
  /** The first CPU reading of the stats window, when taken for many containers at once (cpuSamplesNow). */
  cpuFirst?: CpuSample;
}

/** Every container's CPU counter now, by ID: the start of one stats window shared by all (stats.ts). */
export async function cpuSamplesNow(engine: Engine, infos: ContainerInfo[], paths: HostPaths): Promise<Map<string, CpuSample>> {
  const out = new Map<string, CpuSample>();
  if (!engine.local) return out;
  await Promise.all(
    infos.map(async (info) => {
      if (!info.running || info.initPid <= 0) return;
      const ns = await readCpuUsageNs(info.initPid, info.id, paths).catch(() => null);
      if (ns !== null) out.set(info.id, { ns, atMs: clockMs() });
    }),
  );
  return out;
}

/**
 * The first part of an observation: where the container is (cgroup, layout), and its process table
 * when reading it needs no exec (the host's /proc alone). An audit runs this part for every
 * container and then finishObservation for each: the host-read tables are then read while the
 * CPU window (stats.ts) is open, instead of each concurrency slot waiting the window out first
 * (30 containers on the host route: 300 -> 220 ms a run, measured).
 */
export interface StartedObservation {
  info: ContainerInfo;
  layout: Layout;
  /** Set only when the layout says the init PID is the engine's (locality.ts). */
  cgroup: ContainerCgroup | null;
  problems: string[];
  /** The table read from the host's /proc alone; absent when it needs ps in the container. */
  hostTable?: ProcessTable | null;
}

export async function observeContainer(engine: Engine, info: ContainerInfo, opts: ObserveOptions): Promise<ContainerObservation> {
  return finishObservation(engine, await startObservation(engine, info, opts), opts);
}

export async function startObservation(engine: Engine, info: ContainerInfo, opts: ObserveOptions): Promise<StartedObservation> {
  const problems: string[] = [];
  const paths = { procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot };
  const found = engine.local && info.initPid > 0 ? await findPidsCgroup(info.initPid, info.id, paths).catch(() => null) : null;
  const layout = await readLayout(engine, info, opts.procRoot, found);
  // Nothing read through the init PID counts unless the layout says that PID is the engine's.
  const cgroup = layout.local ? found : null;
  if (engine.local && info.running && !layout.local) {
    problems.push(`host view not used: ${layout.remoteReason}`);
    // pidwarden in a container of its own with a private cgroup namespace: say how to fix it
    const hint = found ? null : privateCgroupNamespaceHint(opts.procRoot, info.initPid);
    if (hint) problems.push(hint);
  }
  const started: StartedObservation = { info, layout, cgroup, problems };
  // No exec will run in the container: nothing of ours lands in its CPU figure, so read it now.
  const pids = pidsOf(started, null);
  if (cgroup && readsHostOnly({ cgroupDir: cgroup.dir, layout, pids }, probeOf(opts))) started.hostTable = await readTable(engine, started, pids, opts);
  return started;
}

export async function finishObservation(engine: Engine, started: StartedObservation, opts: ObserveOptions): Promise<ContainerObservation> {
  const { info, layout, cgroup, problems } = started;
  const paths = { procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot };
  const readCpu = () => readCpuUsageNs(info.initPid, info.id, paths);
  // Stats first, then processes: our own ps and cat run inside the container's cgroup and would
  // show up in its CPU % (measured: an idle container read 16 % while being probed).
  const stats = opts.stats && info.running
    ? await readStats(
        engine,
        info.id,
        cgroup
          ? {
              cpu: readCpu,
              memory: () => readMemory(info.initPid, info.id, paths),
              ...(opts.cpuFirst ? { first: opts.cpuFirst } : {}),
            }
          : undefined,
      ).catch((e: unknown): StatsReading | null => {
        problems.push(`stats: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      })
    : null;
  const pids = pidsOf(started, stats);
  const table = started.hostTable !== undefined ? started.hostTable : await readTable(engine, started, pids, opts);
  if (stats?.cpuLast && cgroup && started.hostTable === undefined && opts.processes) {
    // ps and cat (or an attempt that failed over to the host's /proc) ran in the container's cgroup
    // after the second reading: the next audit's window (cpu-mark.ts) starts after them, so that
    // their CPU is not the container's there either.
    const ns = await readCpu().catch(() => null);
    if (ns === null) delete stats.cpuLast;
    else stats.cpuLast = { ns, atMs: clockMs() };
  }
  if (layout.refusal) problems.push(layout.refusal);

  // The limit in force (the least room any pids.max up the tree leaves, and which cgroup holds it) is
  // read with the cgroup; the kernel's counters beside it: forks refused, and the peak where there is one.
  const limits = cgroup ? { inForce: pids.max, heldBy: pids.heldBy ?? null, shared: pids.shared ?? null, ...readPidsCounters(cgroup.dir) } : null;
  return { info, layout, pids, cgroupDir: cgroup?.dir ?? null, table, stats, problems, limits };
}

function pidsOf({ info, cgroup }: StartedObservation, stats: StatsReading | null): PidsReading {
  if (cgroup) {
    const pids: PidsReading = { current: cgroup.current, max: cgroup.max, source: cgroup.version === 1 ? 'cgroup-v1' : 'cgroup-v2' };
    if (cgroup.heldBy !== null) pids.heldBy = cgroup.heldBy;
    if (cgroup.shared !== null) pids.shared = cgroup.shared;
    return pids;
  }
  // Podman's stats have no limit: the configured one stands in (src/engine/containers.ts)
  if (stats && stats.apiPids.current !== null) return { current: stats.apiPids.current, max: stats.apiPids.max ?? info.pidsLimit ?? null, source: 'api' };
  return { current: null, max: null, source: 'none' };
}

function probeOf(opts: ObserveOptions): ProbeOptions {
  return { execTimeoutMs: opts.execTimeoutMs, procRoot: opts.procRoot, preferHost: opts.preferHost, zombies: opts.zombies };
}

async function readTable(engine: Engine, { info, layout, cgroup, problems }: StartedObservation, pids: PidsReading, opts: ObserveOptions): Promise<ProcessTable | null> {
  if (!opts.processes || !info.running || layout.refusal) return null;
  const host = cgroup ? { cgroupDir: cgroup.dir, layout, pids } : null;
  const table = await readProcesses(engine, info.id, host, probeOf(opts)).catch((e: unknown) => {
    problems.push(`processes: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  });
  // The container's main process, by the engine's State.Pid: never a victim (src/decide/main-process.ts).
  // Only through a host PID the layout vouches for; without one, PID 1 of a private namespace is it.
  if (table && layout.local) for (const p of table.procs) if (p.hostPid === info.initPid) p.init = true;
  return table;
}
