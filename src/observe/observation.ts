// What one observation of one container holds: the input of decide/ and of every report.
import type { ContainerInfo } from '../engine/containers.ts';
import { saysExecTimedOut } from '../engine/exec.ts';
import type { Layout, PidsReading, ProcessTable } from '../types.ts';
import type { PidsLimitReading } from './pids-limits.ts';
import type { StatsReading } from './stats.ts';

export interface ContainerObservation {
  info: ContainerInfo;
  /** Which views and routes are sound for this container on this host (locality.ts). */
  layout: Layout;
  pids: PidsReading;
  /** The container's pids cgroup directory on this host: set only when layout.local. */
  cgroupDir: string | null;
  /** null when processes were not read (the monitor's cheap path found the container healthy). */
  table: ProcessTable | null;
  stats: StatsReading | null;
  /** The limit in force up the cgroup tree and the kernel's pids counters (null when not readable here). */
  limits?: PidsLimitReading | null;
  /** Collectors that failed: each is reported, none fails the run (node_exporter's rule). */
  problems: string[];
}

/** What the observation says of a probe (ps, cat) that hit --timeout in the container; undefined when none did. */
export function probeTimeoutReason(obs: ContainerObservation): string | undefined {
  return [obs.table?.fallbackReason, ...obs.problems].find((r) => saysExecTimedOut(r));
}
