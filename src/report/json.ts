// The `audit --json` document. Field names are a contract (README: `audit --json`): change with care.
import type { Assessment } from '../decide/classify.ts';
import type { Insight } from '../decide/insight.ts';
import type { HostFigures } from '../observe/host.ts';
import type { ContainerObservation } from '../observe/observation.ts';

export interface AuditedContainer {
  obs: ContainerObservation;
  assessment: Assessment;
  /** The effective policy with each value's origin, or the malformed label that leaves it unknown. */
  policy: Record<string, { value: unknown; from: string }> | { error: string };
  /** Limit verdict, growth, notes: absent where not computed (unit fixtures). */
  insight?: Insight;
}

export function auditDocument(time: Date, host: HostFigures, containers: AuditedContainer[]) {
  return {
    time: time.toISOString(),
    host: {
      hostname: host.hostname,
      cpus: host.cpus,
      load: host.load,
      memory: host.memory,
    },
    containers: containers.map(({ obs, assessment: a, policy, insight }) => ({
      id: obs.info.id,
      name: obs.info.name,
      image: obs.info.image,
      state: obs.info.state,
      status: a.status,
      reasons: a.reasons,
      pids: { current: obs.pids.current, max: obs.pids.max, source: obs.pids.source },
      processes: {
        total: obs.table ? a.total : null,
        // Runaway trees: a runaway process inside another's tree is part of it, not a second one.
        matching: obs.table ? a.trees.length : null,
        orphans: obs.table ? a.orphans : null,
        zombies: obs.table ? a.zombies : null,
        source: obs.table?.source ?? 'none',
        ...(obs.table?.flavor ? { flavor: obs.table.flavor } : {}),
        ...(obs.table?.fallbackReason ? { fallbackReason: obs.table.fallbackReason } : {}),
      },
      duplicates: a.duplicates.map((d) => ({ command: d.command, count: d.count, pids: d.pids })),
      cpuPercent: obs.stats?.cpuPercent ?? null,
      // What cpuPercent covers: 0.1 s measured now, or the time since the previous audit (cpu-mark.ts)
      cpuWindowSeconds: obs.stats?.cpuWindowMs === undefined ? null : obs.stats.cpuWindowMs / 1000,
      memoryBytes: obs.stats?.memoryBytes ?? null,
      memoryLimitBytes: obs.stats?.memoryLimitBytes ?? null,
      labels: obs.info.labels,
      layout: {
        local: obs.layout.local,
        pidMode: obs.layout.pidMode,
        sharedPidNamespace: obs.layout.sharedPidNamespace,
        ...(obs.layout.sharedPidWhy ? { sharedPidWhy: obs.layout.sharedPidWhy } : {}),
        nsDepth: obs.layout.nsDepth,
        hostSignals: obs.layout.hostSignals,
        ...(obs.layout.remoteReason ? { remoteReason: obs.layout.remoteReason } : {}),
        ...(obs.layout.refusal ? { refusal: obs.layout.refusal } : {}),
      },
      policy,
      ...(insight ? { limit: limitJson(insight), growth: growthJson(insight), notes: insight.notes } : {}),
      problems: obs.problems,
    })),
  };
}

function limitJson(i: Insight) {
  const l = i.limit;
  return {
    configured: l.configured,
    inForce: l.inForce,
    heldBy: l.heldBy,
    shared: l.shared ?? null,
    enforceable: l.enforceable,
    forksRefused: l.forksRefused,
    peak: l.peak,
    verdict: l.verdict,
    line: l.line,
  };
}

function growthJson(i: Insight) {
  const g = i.growth;
  return {
    perHour: g.perHour,
    windowSeconds: g.windowSeconds,
    samples: g.samples,
    toMaxProcsSeconds: g.toMaxProcsSeconds,
    tasksPerHour: g.tasksPerHour,
    toPidsMaxSeconds: g.toPidsMaxSeconds,
  };
}
