// One container, observed: identity (given), pids, processes, stats. Each collector may fail on
// its own; the failure is recorded in `problems` and the others still report.
import type { Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { PidsReading } from '../types.ts';
import { findPidsCgroup, readCpuUsageNs, readMemory } from './cgroup.ts';
import type { ContainerObservation } from './observation.ts';
import { readProcesses } from './processes.ts';
import { readStats, type StatsReading } from './stats.ts';

export interface ObserveOptions {
  procRoot: string;
  cgroupRoot?: string;
  processes: boolean;
  stats: boolean;
  preferHost?: boolean;
  execTimeoutMs: number;
}

export async function observeContainer(engine: Engine, info: ContainerInfo, opts: ObserveOptions): Promise<ContainerObservation> {
  const problems: string[] = [];
  const cgroup = engine.local && info.initPid > 0
    ? await findPidsCgroup(info.initPid, { procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot }).catch(() => null)
    : null;
  if (engine.local && info.running && !cgroup) problems.push('pids cgroup not found through /proc/<init pid>/cgroup');

  // Stats first, then processes: our own ps and cat run inside the container's cgroup and would
  // show up in its CPU % (measured: an idle container read 16 % while being probed).
  const stats = opts.stats && info.running
    ? await readStats(
        engine,
        info.id,
        engine.local
          ? {
              cpu: () => readCpuUsageNs(info.initPid, { procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot }),
              memory: () => readMemory(info.initPid, { procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot }),
            }
          : undefined,
      ).catch((e: unknown): StatsReading | null => {
        problems.push(`stats: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      })
    : null;
  const table = opts.processes && info.running
    ? await readProcesses(engine, info.id, info.initPid, cgroup?.dir ?? null, {
        execTimeoutMs: opts.execTimeoutMs,
        procRoot: opts.procRoot,
        preferHost: opts.preferHost,
      }).catch((e: unknown) => {
        problems.push(`processes: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      })
    : null;

  let pids: PidsReading;
  if (cgroup) pids = { current: cgroup.current, max: cgroup.max, source: cgroup.version === 1 ? 'cgroup-v1' : 'cgroup-v2' };
  else if (stats && stats.apiPids.current !== null) pids = { current: stats.apiPids.current, max: stats.apiPids.max ?? info.pidsLimit ?? null, source: 'api' };
  else pids = { current: null, max: null, source: 'none' };

  return { info, pids, cgroupDir: cgroup?.dir ?? null, table, stats, problems };
}
