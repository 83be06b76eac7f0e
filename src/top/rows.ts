// What `top` shows of each container: observed as the audit does (processes, pids; no stats, which
// cost 100 ms of CPU sampling each), assessed with the container's own policy, and the tasks
// history behind the growth sparkline. Read-only: nothing here signals or restarts anything.
import { probeSlots } from '../engine/probe-slots.ts';
import type { Settings } from '../cli/settings.ts';
import { assess } from '../decide/classify.ts';
import { containerPolicy, describePolicy, globalPolicy } from '../decide/policy.ts';
import type { Engine } from '../engine/client.ts';
import { selectContainers } from '../engine/containers.ts';
import { observeContainer } from '../observe/container.ts';
import { sharedZombieScan } from '../observe/host-proc.ts';
import { excludedBy } from '../commands/select.ts';
import type { TopRow } from './view.ts';

/** Samples kept per container: 150 refreshes are 5 minutes at the default 2 s. */
export const HISTORY_SAMPLES = 150;

export class TasksHistory {
  private readonly byId = new Map<string, number[]>();

  add(id: string, tasks: number | null): number[] {
    const h = this.byId.get(id) ?? [];
    if (tasks !== null) h.push(tasks);
    if (h.length > HISTORY_SAMPLES) h.splice(0, h.length - HISTORY_SAMPLES);
    this.byId.set(id, h);
    return h;
  }

  /** Forget containers that are gone. */
  retain(ids: Set<string>): void {
    for (const id of this.byId.keys()) if (!ids.has(id)) this.byId.delete(id);
  }
}

export async function observeRows(engine: Engine, s: Settings, history: TasksHistory, execTimeoutMs: number): Promise<TopRow[]> {
  const infos = (await selectContainers(engine, { containers: s.containers, labels: s.labels })).filter((i) => i.running && !excludedBy(i, s.exclude));
  history.retain(new Set(infos.map((i) => i.id)));
  const zombies = sharedZombieScan(s.procRoot);
  // at most --concurrency probes at once, like every other command (src/engine/probe-slots.ts)
  const slots = probeSlots(engine, s.concurrency);
  const observations = await Promise.all(
    infos.map((info) =>
      slots.run(() =>
        observeContainer(engine, info, {
          procRoot: s.procRoot,
          cgroupRoot: s.cgroupRoot,
          processes: true,
          stats: false,
          execTimeoutMs,
          preferHost: s.procSource === 'host',
          zombies,
        }),
      ),
    ),
  );
  return observations.map((obs): TopRow => {
    const policy = containerPolicy(s, obs.info.labels);
    const rules = policy.ok ? policy.policy : globalPolicy(s);
    const a = assess(obs.table?.procs ?? null, obs.pids, rules);
    const badLabel = policy.ok ? null : `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}`;
    const described: Record<string, { value: unknown; from: string }> = policy.ok ? describePolicy(policy) : {};
    return {
      id: obs.info.id,
      name: obs.info.name,
      image: obs.info.image,
      status: badLabel && a.status === 'ok' ? 'warn' : a.status,
      processes: obs.table ? a.total : null,
      runaway: obs.table ? a.trees.length : null,
      tasks: obs.pids.current,
      limit: obs.pids.max,
      pidsRatio: rules.pidsRatio,
      history: history.add(obs.info.id, obs.pids.current),
      reasons: [...(badLabel ? [badLabel] : []), ...a.reasons, ...obs.problems],
      duplicates: a.duplicates.map((d) => ({ command: d.command, count: d.count })),
      orphans: a.orphans,
      zombies: a.zombies,
      policy: SHOWN_POLICY.filter((k) => described[k]).map((k) => `${k}: ${formatPolicyValue(described[k]!)}`),
    };
  });
}

/** The policy lines of the details view: what decides whether and how pidwarden acts. */
const SHOWN_POLICY = ['maxProcs', 'pidsRatio', 'match', 'steps', 'restart', 'restartLimit'];

function formatPolicyValue(v: { value: unknown; from: string }): string {
  const list = (x: unknown) => (Array.isArray(x) ? x.map(String).join(', ') : String(x));
  const narrowed = v.value as { anyOf?: unknown; andAnyOf?: unknown } | null;
  // a label's pidwarden.match narrowed by --match (src/decide/policy.ts)
  if (narrowed && typeof narrowed === 'object' && !Array.isArray(narrowed) && narrowed.anyOf !== undefined) {
    return `${list(narrowed.anyOf)} (${v.from}) within ${list(narrowed.andAnyOf)} (flag)`;
  }
  return `${list(v.value)} (${v.from})`;
}
