// One container, observed: identity (given), layout, pids, processes, stats. Each collector may
// fail on its own; the failure is recorded in `problems` and the others still report.
import type { Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { PidsReading } from '../types.ts';
import { findPidsCgroup, readCpuUsageNs, readMemory, type HostPaths } from './cgroup.ts';
import { privateCgroupNamespaceHint } from './cgroup-namespace.ts';
import { readLayout } from './locality.ts';
import type { ContainerObservation } from './observation.ts';
import { readPidsCounters } from './pids-limits.ts';
import { readProcesses, type ProbeOptions } from './processes.ts';
import { readStats, type CpuSample, type StatsReading } from './stats.ts';

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
      if (ns !== null) out.set(info.id, { ns, atNs: process.hrtime.bigint() });
    }),
  );
  return out;
}

export async function observeContainer(engine: Engine, info: ContainerInfo, opts: ObserveOptions): Promise<ContainerObservation> {
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

  // Stats first, then processes: our own ps and cat run inside the container's cgroup and would
  // show up in its CPU % (measured: an idle container read 16 % while being probed).
  const stats = opts.stats && info.running
    ? await readStats(
        engine,
        info.id,
        cgroup
          ? {
              cpu: () => readCpuUsageNs(info.initPid, info.id, paths),
              memory: () => readMemory(info.initPid, info.id, paths),
              ...(opts.cpuFirst ? { first: opts.cpuFirst } : {}),
            }
          : undefined,
      ).catch((e: unknown): StatsReading | null => {
        problems.push(`stats: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      })
    : null;

  let pids: PidsReading;
  if (cgroup) {
    pids = { current: cgroup.current, max: cgroup.max, source: cgroup.version === 1 ? 'cgroup-v1' : 'cgroup-v2' };
    if (cgroup.heldBy !== null) pids.heldBy = cgroup.heldBy;
  } else if (stats && stats.apiPids.current !== null) {
    // Podman's stats have no limit: the configured one stands in (src/engine/containers.ts)
    pids = { current: stats.apiPids.current, max: stats.apiPids.max ?? info.pidsLimit ?? null, source: 'api' };
  }
  else pids = { current: null, max: null, source: 'none' };

  const table = opts.processes && info.running && !layout.refusal
    ? await readProcesses(engine, info.id, info.initPid, cgroup ? { cgroupDir: cgroup.dir, layout, pids } : null, {
        execTimeoutMs: opts.execTimeoutMs,
        procRoot: opts.procRoot,
        preferHost: opts.preferHost,
        zombies: opts.zombies,
      }).catch((e: unknown) => {
        problems.push(`processes: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      })
    : null;
  if (layout.refusal) problems.push(layout.refusal);

  // The limit in force (the smallest pids.max up the tree, and which cgroup holds it) is read with
  // the cgroup; the kernel's counters beside it: forks refused, and the peak where there is one.
  const limits = cgroup ? { inForce: pids.max, heldBy: pids.heldBy ?? null, ...readPidsCounters(cgroup.dir) } : null;
  return { info, layout, pids, cgroupDir: cgroup?.dir ?? null, table, stats, problems, limits };
}
