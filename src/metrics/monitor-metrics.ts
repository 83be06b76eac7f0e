// What the monitor shows on /metrics and /healthz: its loop, each container's last figures, and
// counters of what it did (fed from the action log, so the ladder itself is not touched).
import { assess } from '../decide/classify.ts';
import type { ContainerPolicy } from '../decide/policy.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { ActionFields, ActionLog } from '../log/logger.ts';
import type { ContainerObservation } from '../observe/observation.ts';
import { VERSION } from '../version.ts';
import { collectorOf, containerLabels, figuresOfAssessment, setContainerFigures } from './container-figures.ts';
import { readPidsCounters } from '../observe/pids-limits.ts';
import { M, MONITOR_METRICS, type Collector } from './families.ts';
import { Registry, type Labels } from './registry.ts';

/** /healthz answers 503 once the last cycle is older than this many intervals (README: Metrics and notifications). */
export const STALE_INTERVALS = 3;
const KILL_STEPS = ['dedupe', 'oldest', 'all'] as const;

export class MonitorMetrics {
  readonly registry = new Registry(MONITOR_METRICS);
  private readonly labelsById = new Map<string, Labels>();
  private lastCycleEndMs: number;
  private tried = new Set<Collector>();
  private failed = new Set<Collector>();

  constructor(
    private readonly intervalSeconds: number,
    nowMs: number,
  ) {
    // Until the first cycle ends, the monitor's start counts as the last sign of life.
    this.lastCycleEndMs = nowMs;
    this.registry.set(M.up, {}, 1);
    this.registry.set(M.buildInfo, { version: VERSION }, 1);
    this.registry.set(M.interval, {}, intervalSeconds);
    this.registry.set(M.cycles, {}, 0);
  }

  /** A cycle ended (also one that found the engine down): its duration and the collectors' verdict. */
  cycleDone(startedMs: number, endedMs: number, engineUp: boolean): void {
    this.lastCycleEndMs = endedMs;
    this.registry.inc(M.cycles, {});
    this.registry.set(M.lastCycleDuration, {}, (endedMs - startedMs) / 1000);
    this.registry.set(M.lastCycleTimestamp, {}, endedMs / 1000);
    this.registry.set(M.engineUp, {}, engineUp ? 1 : 0);
    this.tried.add('engine');
    if (!engineUp) this.failed.add('engine');
    for (const c of this.tried) this.registry.set(M.collectorSuccess, { collector: c }, this.failed.has(c) ? 0 : 1);
    this.tried = new Set();
    this.failed = new Set();
  }

  /** Alive and cycling: the last cycle ended less than 3 intervals ago. */
  healthy(nowMs: number): boolean {
    return nowMs - this.lastCycleEndMs <= STALE_INTERVALS * this.intervalSeconds * 1000;
  }

  /** The cheap check's figures: the cgroup's own counts, no process table. */
  cheap(info: ContainerInfo, cgroupDir: string | null, snap: { current: number | null; max: number | null; processes: number } | null, healthy: boolean): void {
    this.tried.add('cgroup');
    if (cgroupDir === null || snap === null) {
      this.failed.add('cgroup');
      return;
    }
    const labels = this.labelsOf(info);
    setContainerFigures(this.registry, labels, {
      healthy,
      processes: snap.processes,
      tasks: snap.current,
      pidsLimit: snap.max,
      forksRefused: readPidsCounters(cgroupDir).forksRefused,
      runaway: healthy ? null : undefined,
    });
  }

  /** A full observation (the container was not shown healthy by the cheap check). */
  observed(obs: ContainerObservation, policy: ContainerPolicy): void {
    this.tried.add('processes');
    for (const p of obs.problems) {
      const c = collectorOf(p);
      if (c) {
        this.tried.add(c);
        this.failed.add(c);
      }
    }
    const a = assess(obs.table?.procs ?? null, obs.pids, policy);
    setContainerFigures(this.registry, this.labelsOf(obs.info), figuresOfAssessment(obs, a, a.status !== 'critical'));
  }

  /** Processes per hour from the monitor's own samples (null: not yet 3 over 2 minutes). */
  growth(info: ContainerInfo, perHour: number | null): void {
    this.registry.set(M.growthPerHour, this.labelsOf(info), perHour);
  }

  /** Forget the containers no longer selected: their series go with them (bounded for weeks). */
  retain(liveIds: Set<string>): void {
    for (const id of this.labelsById.keys()) if (!liveIds.has(id)) this.labelsById.delete(id);
    const short = new Set([...liveIds].map((id) => id.slice(0, 12)));
    this.registry.dropWhere('id', (v) => short.has(v));
  }

  /** The action log, counting what the ladder did as it is logged. */
  countingLog(log: ActionLog): ActionLog {
    const count = (f: ActionFields) => {
      const labels = f.containerId ? this.labelsById.get(f.containerId) : undefined;
      if (!labels || f.dryRun) return;
      if (f.event === 'kill' && f.signal === 'SIGTERM' && f.step) this.registry.inc(M.killed, { ...labels, step: f.step }, f.pids?.length ?? 0);
      else if (f.event === 'restart') this.registry.inc(M.restarts, labels);
      else if (f.event === 'restart-suppressed') this.registry.inc(M.restartsSuppressed, labels);
      else if (f.event === 'restart-skipped') this.registry.inc(M.restartsSkipped, labels);
    };
    return {
      info: (f, msg) => (log.info(f, msg), count(f)),
      warn: (f, msg) => (log.warn(f, msg), count(f)),
      error: (f, msg) => (log.error(f, msg), count(f)),
      reopen: () => log.reopen(),
      flush: () => log.flush(),
      get lost() {
        return log.lost;
      },
    };
  }

  render(): string {
    return this.registry.render();
  }

  /**
   * Counters start at 0 when a container is first seen, so that increase() sees the first action.
   * A `docker rename` makes it a new series under its new name, from 0 again: the old name's series
   * are dropped, not shown beside it (they kept the old name for as long as the monitor ran).
   */
  private labelsOf(info: ContainerInfo): Labels {
    let labels = this.labelsById.get(info.id);
    if (labels && labels['name'] !== info.name) {
      const short = labels['id'];
      this.registry.dropWhere('id', (v) => v !== short);
      labels = undefined;
    }
    if (!labels) {
      labels = containerLabels(info);
      this.labelsById.set(info.id, labels);
      for (const step of KILL_STEPS) this.registry.inc(M.killed, { ...labels, step }, 0);
      for (const m of [M.restarts, M.restartsSuppressed, M.restartsSkipped]) this.registry.inc(m, labels, 0);
    }
    return labels;
  }
}
