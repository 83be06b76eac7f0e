// One container's figures into a registry: the same gauges for the audit and the monitor.
import { readPidsCounters } from '../observe/pids-limits.ts';
import type { Assessment } from '../decide/classify.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { ContainerObservation } from '../observe/observation.ts';
import { M, type Collector } from './families.ts';
import type { Labels, Registry } from './registry.ts';

export function containerLabels(info: ContainerInfo): Labels {
  return { id: info.id.slice(0, 12), name: info.name, image: info.image };
}

export interface ContainerFigures {
  healthy: boolean;
  processes: number | null;
  tasks: number | null;
  pidsLimit: number | null;
  forksRefused: number | null;
  /**
   * Only from a full observation (ps or host /proc). null: unknown, the series go; undefined: left
   * as they are (the monitor's cheap check of an unhealthy container, observed in full right after).
   */
  runaway: { trees: number; orphans: number; duplicates: number; zombies: number } | null | undefined;
}

export function setContainerFigures(reg: Registry, labels: Labels, f: ContainerFigures): void {
  reg.set(M.healthy, labels, f.healthy ? 1 : 0);
  reg.set(M.processes, labels, f.processes);
  reg.set(M.tasks, labels, f.tasks);
  reg.set(M.pidsLimit, labels, f.pidsLimit);
  reg.set(M.forksRefused, labels, f.forksRefused);
  if (f.runaway === undefined) return;
  reg.set(M.runawayTrees, labels, f.runaway?.trees);
  reg.set(M.orphanedTrees, labels, f.runaway?.orphans);
  reg.set(M.duplicateTrees, labels, f.runaway?.duplicates);
  reg.set(M.zombies, labels, f.runaway?.zombies);
}

/** The figures of a full observation and its assessment. */
export function figuresOfAssessment(obs: ContainerObservation, a: Assessment, healthy: boolean): ContainerFigures {
  return {
    healthy,
    processes: obs.table ? a.total : null,
    tasks: obs.pids.current,
    pidsLimit: obs.pids.max,
    forksRefused: obs.limits?.forksRefused ?? (obs.cgroupDir ? readPidsCounters(obs.cgroupDir).forksRefused : null),
    runaway: obs.table
      ? { trees: a.trees.length, orphans: a.orphans, duplicates: a.duplicates.reduce((n, d) => n + d.count - 1, 0), zombies: a.zombies }
      : null,
  };
}

/** Which collector a problem of src/observe/container.ts reports on; null for what is no collector (a label). */
export function collectorOf(problem: string): Collector | null {
  if (problem.startsWith('stats:')) return 'stats';
  if (problem.startsWith('processes:')) return 'processes';
  if (problem.startsWith('pids cgroup') || problem.startsWith('host view not used')) return 'cgroup';
  return null;
}

/** Collector success over a set of observations: 0 when one failed for one container. */
export function setCollectorSuccess(reg: Registry, tried: readonly Collector[], problems: readonly string[]): void {
  const failed = new Set(problems.map(collectorOf));
  for (const c of tried) reg.set(M.collectorSuccess, { collector: c }, failed.has(c) ? 0 : 1);
}
