// One reap pass over a set of containers, shared by `reap`, `monitor --reap` and audit's flood
// lines: observe what the rules need, decide (decide/reap.ts), and, unless only planning, act
// (act/reap.ts) and log one `reap` line per decision. Idle samples live in the state file, so
// one-shot runs from cron measure idleness across runs exactly as the monitor does across cycles.
import type { Settings } from '../cli/settings.ts';
import { decideReap, type ReapDecision, type ReapPlan, type ReapRules } from '../decide/reap.ts';
import type { UsageSample } from '../decide/idle.ts';
import { reapContainer, plannedAction, type ReapAction } from '../act/reap.ts';
import { engineCall, isEngineLost, unreachable, type Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import { EngineUnreachableError } from '../errors.ts';
import type { ActionLog } from '../log/logger.ts';
import { observeReapSubject, ReapFactsCache, type Observed } from '../observe/reap-subject.ts';
import { readBootTimeMs } from '../observe/owner-process.ts';
import { containersInOurMountNamespace, readOwnContainerIds } from '../observe/own-container.ts';
import { ticksSinceBoot } from '../engine/exec-reaper.ts';
import { USER_HZ } from '../observe/boot-time.ts';
import type { StateStore } from '../state/state-file.ts';
import { mapBounded } from '../bounded.ts';

/** Stops run side by side, this many at once: a PID 1 that ignores SIGTERM holds its stop for the whole timeout (10 s by default). */
export const STOP_CONCURRENCY = 8;

export function reapRules(s: Settings, local: boolean): ReapRules {
  return {
    ownerLabels: s.ownerLabels,
    orphanUnlabelled: s.orphanUnlabelled,
    idleCpuPercent: s.idleCpuPercent,
    localEngine: local,
    ...(s.maxAgeMs === undefined ? {} : { maxAgeMs: s.maxAgeMs }),
    ...(s.startedLabel === undefined ? {} : { startedLabel: s.startedLabel }),
    ...(s.idleForMs === undefined ? {} : { idleForMs: s.idleForMs }),
    ...(s.maxPerGroup === undefined ? {} : { maxPerGroup: s.maxPerGroup }),
    ...(s.groupLabel === undefined ? {} : { groupLabel: s.groupLabel }),
  };
}

export interface ReapOutcome {
  decision: ReapDecision;
  info: ContainerInfo;
  action: ReapAction;
}

export interface PassResult {
  plan: ReapPlan;
  outcomes: ReapOutcome[];
  /** Containers that could not be observed, and why. */
  failures: { info: ContainerInfo; reason: string }[];
  checked: number;
}

export class Reaper {
  private readonly facts: ReapFactsCache;
  /** Problems and kept containers are logged once per container and reason, not every cycle. */
  private readonly said = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly s: Settings,
    private readonly store: StateStore | null,
  ) {
    this.facts = new ReapFactsCache(engine);
  }

  /** Observe and decide; `record` stores this pass's idle samples in the state file. */
  async plan(infos: ContainerInfo[], record: boolean): Promise<{ plan: ReapPlan; observed: Map<string, Observed>; failures: PassResult['failures'] }> {
    const s = this.s;
    const nowMs = Date.now();
    // pidwarden's own host's uptime (not --proc-root's: nowMs is this host's clock too)
    const upTicks = ticksSinceBoot('/proc');
    const upMs = upTicks === null ? null : Math.round((upTicks * 1000) / USER_HZ);
    const running = infos.filter((i) => i.running);
    // pidwarden's own container is never stopped (decide/reap.ts builtInExemption): from our own
    // /proc/self, not --proc-root, and, on a local engine, the container whose init shares our mount namespace
    const ownIds = [...(await readOwnContainerIds()), ...(this.engine.local ? await containersInOurMountNamespace(running, s.procRoot) : [])];
    const rules: ReapRules = { ...reapRules(s, this.engine.local), ownContainerIds: [...new Set(ownIds)] };
    const runningIds = new Set(running.map((i) => i.id));
    this.facts.retain(runningIds);
    // What was said about a container is forgotten with it: a monitor --reap on a host that makes a
    // container every 3 s kept one key per kept, refused or problem line of each (~200,000 a week).
    for (const key of this.said) if (!runningIds.has(key.slice(0, key.indexOf(' ')))) this.said.delete(key);
    const paths = { procRoot: s.procRoot, cgroupRoot: s.cgroupRoot };
    const bootMs = this.engine.local ? await readBootTimeMs(s.procRoot) : null;
    const failures: PassResult['failures'] = [];
    // --concurrency at once, as the audit observes: all at once, 60 containers were 60 inspects in
    // flight, a socket each (test/unit/reap-at-scale.test.ts).
    const withFacts = (
      await mapBounded(running, s.concurrency, async (info) => {
        try {
          const facts = await this.facts.of(info);
          return facts ? { info, facts } : null;
        } catch (e) {
          if (isEngineLost(e)) throw e;
          failures.push({ info, reason: e instanceof Error ? e.message : String(e) });
          return null;
        }
      })
    ).filter((x): x is NonNullable<typeof x> => x !== null);
    const wantUsage = s.idleForMs !== undefined;
    const stored = wantUsage && this.store ? this.store.usageSamples(withFacts.map((w) => ({ id: w.info.id, startedAt: w.facts.startedAtMs }))) : new Map<string, UsageSample[]>();
    const observed = new Map<string, Observed>();
    await mapBounded(withFacts, s.concurrency, async ({ info, facts }) => {
      try {
        observed.set(info.id, await observeReapSubject(this.engine, info, facts, rules, paths, bootMs, stored.get(info.id) ?? [], wantUsage, nowMs, upMs));
      } catch (e) {
        if (isEngineLost(e)) throw e;
        failures.push({ info, reason: e instanceof Error ? e.message : String(e) });
      }
    });
    if (record && wantUsage && this.store) {
      const added = [...observed.values()].filter((o) => o.sample).map((o) => ({ id: o.info.id, name: o.info.name, startedAt: o.facts.startedAtMs, sample: o.sample! }));
      const all = await engineCall(this.engine, () => this.engine.docker.listContainers());
      // A paused container's samples are forgotten: frozen, it uses no CPU and does no I/O, and its
      // first sample after `docker unpause` read the whole pause as idle time (a server paused for
      // an hour was stopped by the idle rule at the first pass after it was unpaused). Its history
      // starts again when it runs. A pause that begins and ends between two passes is not seen.
      this.store.recordUsage(added, new Set(all.filter((c) => c.State !== 'paused').map((c) => c.Id)), s.idleForMs!);
    }
    // The order of the input does not matter to the decision; sort for stable logs.
    const subjects = [...observed.values()].map((o) => o.subject).sort((a, b) => a.id.localeCompare(b.id));
    return { plan: decideReap(subjects, rules, nowMs), observed, failures };
  }

  /**
   * Plan, act, log. `stopping`: the monitor was asked to stop (SIGTERM): no further stop is sent,
   * whatever this pass decided, since each one may take --timeout plus the container's stop timeout.
   */
  async pass(infos: ContainerInfo[], log: ActionLog, stopping: () => boolean = () => false): Promise<PassResult> {
    const s = this.s;
    const { plan, observed, failures } = await this.plan(infos, true);
    for (const f of failures) log.error({ event: 'error', container: f.info.name, containerId: f.info.id, reason: `reap: ${f.reason}`, dryRun: s.dryRun });
    for (const p of plan.problems) {
      if (this.once(`${p.id} ${p.reason}`)) {
        const fields = { event: p.skipped ? ('error' as const) : ('notice' as const), container: p.name, containerId: p.id, reason: `reap: ${p.reason}`, dryRun: s.dryRun };
        if (p.skipped) log.error(fields);
        else log.warn(fields);
      }
    }
    const opts = {
      dryRun: s.dryRun,
      remove: s.remove,
      ...(s.stopTimeoutSeconds === undefined ? {} : { stopTimeoutSeconds: s.stopTimeoutSeconds }),
      ...(this.engine.local ? { procRoot: s.procRoot } : {}),
    };
    for (const k of plan.kept) {
      if (!this.once(`${k.id} kept ${k.rule}`)) continue;
      const o = observed.get(k.id)!;
      log.info({ event: 'reap', ...lineOf(k, o.info), action: 'none', result: 'kept', reason: `${k.reason}; kept: label pidwarden.reap=false`, dryRun: s.dryRun });
    }
    const outcomes: ReapOutcome[] = [];
    const notSent: ReapDecision[] = [];
    // The engine lost: each worker ends the stop it has begun (and logs it), none starts another,
    // and the pass fails with it once all have ended (exit 3).
    let lost: unknown = null;
    // A dry-run monitor would otherwise say the same "would stop" every cycle.
    const queue = plan.stop.filter((d) => !s.dryRun || this.once(`${d.id} would ${d.rule}`));
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        // Asked to stop during the observation or the stops before: 20 containers past --max-age,
        // 8 at a time, 10 s each (a PID 1 ignoring SIGTERM) were still stopped 20 s after SIGTERM.
        if (stopping() || lost !== null) {
          notSent.push(d);
          continue;
        }
        const o = observed.get(d.id)!;
        let action: ReapAction;
        // The container's ladder lock, as a ladder takes it (src/act/ladder-run.ts): a stop sent while
        // a ladder restarts the container undid the restart, or the restart undid the stop. The
        // monitor runs its reap passes beside its watches, and a cron cleanup may run beside a reap.
        const release = this.store && !s.dryRun ? this.store.tryLockContainer(d.id) : () => {};
        if (release === null) {
          action = { ...plannedAction(o.info, o.facts.autoRemove, opts), result: 'busy', error: 'a ladder is running on it (this monitor or another pidwarden); left to a later pass' };
        } else {
          try {
            action = await reapContainer(this.engine, o.info, o.facts.startedAtMs, o.facts.autoRemove, opts);
          } catch (e) {
            if (isEngineLost(e)) {
              lost ??= e instanceof EngineUnreachableError ? e : unreachable(this.engine, e);
              notSent.push(d);
              continue;
            }
            action = { ...plannedAction(o.info, o.facts.autoRemove, opts), result: 'failed', error: e instanceof Error ? e.message : String(e) };
          } finally {
            release();
          }
        }
        outcomes.push({ decision: d, info: o.info, action });
        // a monitor refuses the same stop every cycle: said once
        if (action.result === 'refused' && !this.once(`${d.id} refused`)) continue;
        const fields = {
          event: 'reap' as const,
          ...lineOf(d, o.info),
          action: action.action,
          result: action.result,
          stopTimeout: action.stopTimeout.seconds,
          stopTimeoutFrom: action.stopTimeout.from,
          autoRemove: action.autoRemove,
          compose: action.compose,
          ...(action.error ? { error: action.error } : {}),
          dryRun: s.dryRun,
        };
        if (action.result === 'failed') log.error(fields);
        else if (action.result === 'refused') log.warn(fields);
        else log.info(fields);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STOP_CONCURRENCY, queue.length) }, worker));
    if (notSent.length > 0) {
      const names = notSent.map((d) => d.name).join(', ');
      const why = lost !== null ? 'engine lost' : 'stopping';
      log.warn({ event: 'notice', reason: `${why}: ${notSent.length} stop${notSent.length === 1 ? '' : 's'} decided by this reap pass not sent (${names})`, dryRun: s.dryRun });
    }
    if (lost !== null) throw lost;
    return { plan, outcomes, failures, checked: observed.size };
  }

  private once(key: string): boolean {
    if (this.said.has(key)) return false;
    this.said.add(key);
    return true;
  }
}

/** The decision's fields for its JSONL line: rule, reason, figures (owner PID and that it is dead, age, CPU, group size). */
function lineOf(d: ReapDecision, info: ContainerInfo): Record<string, unknown> {
  const first = d.figures.owners?.[0];
  return {
    container: info.name,
    containerId: info.id,
    image: info.image,
    rule: d.rule,
    reason: d.reason,
    ...(first ? { ownerPid: first.pid, ownerAlive: false, ownerLabel: first.label } : {}),
    // Every line says how old the container is (from its start label or start), whatever the rule.
    ageSeconds: Math.max(0, Math.round((Date.now() - d.startMs) / 1000)),
    ...d.figures,
  };
}

/** One line for stderr per decision. */
export function reapSummaryLine(o: ReapOutcome): string {
  const why = `${o.decision.rule}: ${o.decision.reason}`;
  switch (o.action.result) {
    case 'dry-run':
      return `${o.info.name}: [dry run] would ${o.action.action === 'stop+remove' ? 'stop and remove' : 'stop'} (${why})`;
    case 'stopped':
      return `${o.info.name}: stopped${o.action.autoRemove ? ' (removed by the engine: --rm)' : o.action.compose ? ' (compose-managed: not removed)' : ''} (${why})`;
    case 'removed':
      return `${o.info.name}: stopped and removed (${why})`;
    case 'gone':
      return `${o.info.name}: already stopped or removed, nothing done (${why})`;
    case 'restarted-meanwhile':
      return `${o.info.name}: restarted since it was observed, left alone (${why})`;
    case 'busy':
      return `${o.info.name}: a ladder is running on it, not stopped now (${why})`;
    case 'failed':
      return `${o.info.name}: STOP FAILED: ${o.action.error} (${why})`;
    case 'refused':
      return `${o.info.name}: NOT STOPPED: ${o.action.error} (${why})`;
  }
}
