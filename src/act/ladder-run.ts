// Drive one container down the escalation ladder: decide (pure, decide/ladder.ts), act, observe
// again, stop as soon as it is healthy. Shared by `cleanup` (once) and `monitor` (every cycle).
import type { Settings } from '../cli/settings.ts';
import { isHealthy, pidsPressure } from '../decide/classify.ts';
import { planKill, stepsToRun, type KillPlan } from '../decide/ladder.ts';
import type { RestartDecision } from '../decide/restart-policy.ts';
import type { Engine } from '../engine/client.ts';
import { inspectById, restartContainer, stopTimeoutFor, type ContainerInfo } from '../engine/containers.ts';
import type { ActionLog } from '../log/logger.ts';
import { observeContainer } from '../observe/container.ts';
import type { ContainerObservation } from '../observe/observation.ts';
import type { PidsReading, Proc } from '../types.ts';
import { toTarget } from './identity.ts';
import { depthsBelow } from '../decide/tree.ts';
import { killAll, killLineFields, type KillEnv, type SignalBatch } from './kill-trees.ts';

export interface RestartGate {
  check(containerId: string, nowMs: number): RestartDecision;
  record(containerId: string, nowMs: number): void;
}

export interface LadderOutcome {
  container: string;
  healthyBefore: boolean;
  healthy: boolean;
  before: Figures;
  after: Figures;
  stepsRun: string[];
  killed: number;
  restarted: boolean;
  /** Dry run only: whether the simulated result would be healthy. */
  wouldBeHealthy?: boolean;
  /** Stopped or removed during the ladder. */
  gone: boolean;
}

interface Figures {
  processes: number | null;
  pidsCurrent: number | null;
}

export interface LadderEnv {
  engine: Engine;
  settings: Settings;
  log: ActionLog;
  restartGate: RestartGate;
  execTimeoutMs: number;
  /** Checked between steps: a monitor asked to stop finishes the current action, then returns. */
  shouldStop?: () => boolean;
}

/**
 * Look again before the next step: inspect first (the operator may have stopped or removed the
 * container meanwhile, and restarting a container someone just stopped would undo their decision),
 * then observe. null when the container is no longer running.
 */
export async function observeForAction(env: LadderEnv, obs: ContainerObservation): Promise<ContainerObservation | null> {
  const info = await inspectById(env.engine, obs.info.id);
  if (!info || !info.running) return null;
  return observeForLadder(env.engine, env.settings, info, env.execTimeoutMs);
}

/** What the ladder needs of a container: pids and processes, no stats. */
export function observeForLadder(engine: Engine, s: Settings, info: ContainerInfo, execTimeoutMs: number): Promise<ContainerObservation> {
  return observeContainer(engine, info, {
    procRoot: s.procRoot,
    cgroupRoot: s.cgroupRoot,
    processes: true,
    stats: false,
    preferHost: s.procSource === 'host',
    execTimeoutMs,
  });
}

export async function runLadder(env: LadderEnv, first: ContainerObservation): Promise<LadderOutcome> {
  const s = env.settings;
  const ids = { container: first.info.name, containerId: first.info.id };
  let obs: ContainerObservation = first.table ? first : ((await observeForAction(env, first)) ?? first);
  const before = figures(obs.table?.procs ?? null, obs.pids);
  const healthyBefore = healthyNow(obs, s);
  const stepsRun: string[] = [];
  let killed = 0;
  let restarted = false;
  /** Stopped or removed under us (by an operator): the ladder ends, nothing more is done to it. */
  let gone = false;
  // Dry run: the would-be victims are subtracted from a simulated view, so the next step is
  // decided as it would be after the real kill, and a dry run shows where the ladder would stop.
  let simulated: { procs: Proc[]; pids: PidsReading } | null = null;

  for (const step of stepsToRun(s.steps, s.emergency)) {
    if (env.shouldStop?.()) break;
    if (obs.layout.refusal) break; // observed from the API only (a shared PID namespace, remote): never acted on
    const procs = simulated?.procs ?? obs.table?.procs ?? null;
    const pids = simulated?.pids ?? obs.pids;
    if (noEvidenceOfTrouble(procs, pids, s)) break;
    if (step === 'restart') {
      stepsRun.push(step);
      const now = Date.now();
      const decision = env.restartGate.check(obs.info.id, now);
      if (!decision.allowed) {
        env.log.warn(
          { event: 'restart-suppressed', ...ids, step, reason: `restart limit reached: ${decision.recent} restarts in the window`, dryRun: s.dryRun },
          'restart suppressed',
        );
        continue;
      }
      env.log.info({ event: 'step', ...ids, step, reason: 'still unhealthy after the kill steps', dryRun: s.dryRun });
      env.log.info({ event: 'restart', ...ids, step, reason: `stop timeout ${stopTimeoutFor(s.graceSeconds)}s`, dryRun: s.dryRun });
      if (!s.dryRun) {
        await restartContainer(env.engine, obs.info.id, s.graceSeconds);
        env.restartGate.record(obs.info.id, now); // only a restart that happened uses up the budget
        restarted = true;
        const next = await observeForAction(env, { ...obs, table: null });
        if (!next) {
          gone = true;
          break;
        }
        obs = next;
      }
      continue;
    }
    if (!procs) continue; // no process table: only a restart can help
    const plan = planKill(step, procs, pids, s);
    if (plan.victims.length === 0) continue;
    stepsRun.push(step);
    const members = plan.victims.flatMap((v) => v.tree);
    const targets = plan.victims.flatMap((v) => {
      const depths = depthsBelow(v.root.pid, v.tree, procs);
      return v.tree.map((p) => toTarget(p, depths.get(p.pid)));
    });
    env.log.info({
      event: 'step',
      ...ids,
      step,
      reason: plan.reason,
      dryRun: s.dryRun,
      victims: plan.victims.length,
      processes: members.length,
    });
    const killEnv: KillEnv = {
      engine: env.engine,
      containerId: obs.info.id,
      cgroupDir: obs.cgroupDir,
      nsDepth: obs.layout.nsDepth,
      procRoot: s.procRoot,
      hostSignals: obs.layout.hostSignals,
      execAllowed: !obs.layout.sharedPidNamespace,
      execTimeoutMs: env.execTimeoutMs,
      dryRun: s.dryRun,
      shouldStop: env.shouldStop,
    };
    if (s.dryRun) {
      // The identity checks and the choice of route run; only the signals are skipped.
      await killAll(killEnv, targets, s.graceSeconds * 1000, (batch) => logKill(env, ids, plan, batch, true));
      simulated = subtract(procs, pids, members);
      killed += members.length;
      continue;
    }
    const report = await killAll(killEnv, targets, s.graceSeconds * 1000, (batch) => logKill(env, ids, plan, batch, false));
    killed += report.batches.filter((b) => b.signal === 'SIGTERM').reduce((n, b) => n + b.targets.length + b.gone.length, 0);
    if (report.survivors.length > 0) {
      env.log.error({
        event: 'error',
        ...ids,
        step,
        pids: report.survivors.map((t) => t.pid),
        reason: 'still alive after SIGKILL (uninterruptible sleep?)',
        dryRun: false,
      });
    }
    const next = await observeForAction(env, obs);
    if (!next) {
      gone = true;
      break;
    }
    obs = next;
  }

  const finalProcs = simulated?.procs ?? obs.table?.procs ?? null;
  const finalPids = simulated?.pids ?? obs.pids;
  const after = figures(finalProcs, finalPids);
  // A container stopped or removed under us runs nothing away any more: healthy, and said so.
  const healthyAfter = gone || (s.dryRun ? healthyBefore : healthyNow(obs, s));
  const wouldBeHealthy = s.dryRun ? isHealthy(finalProcs?.length ?? null, finalPids, s) : undefined;
  env.log.info({
    event: 'result',
    ...ids,
    before,
    after,
    healthy: healthyAfter,
    ...(wouldBeHealthy === undefined ? {} : { wouldBeHealthy }),
    ...(gone ? { reason: 'the container stopped or went away during cleanup; nothing more done to it' } : {}),
    steps: stepsRun,
    dryRun: s.dryRun,
  });
  return { container: first.info.name, healthyBefore, healthy: healthyAfter, wouldBeHealthy, gone, before, after, stepsRun, killed, restarted };
}

/**
 * Whether the ladder must stop. Without a process table (no ps, no host /proc: a ps-less
 * container on a remote engine) the process count is unknown, and pids.current alone is no
 * evidence (a Node app's 11 threads are 11 tasks): only pids pressure justifies going on, which
 * with no table left to kill from means a restart. No evidence, no restart.
 */
function noEvidenceOfTrouble(procs: Proc[] | null, pids: PidsReading, s: Settings): boolean {
  return procs ? isHealthy(procs.length, pids, s) : !pidsPressure(pids, s.pidsRatio);
}

/** Healthy as a verdict (result line, exit code): without a table it must be shown by pids. */
function healthyNow(obs: ContainerObservation, s: Settings): boolean {
  if (!obs.table) return obs.pids.current !== null && obs.pids.current <= s.maxProcs && !pidsPressure(obs.pids, s.pidsRatio);
  return isHealthy(obs.table.procs.length, obs.pids, s);
}

function figures(procs: Proc[] | null, pids: PidsReading): Figures {
  return { processes: procs?.length ?? null, pidsCurrent: pids.current };
}

function subtract(procs: Proc[], pids: PidsReading, members: Proc[]): { procs: Proc[]; pids: PidsReading } {
  const gone = new Set(members.map((m) => m.pid));
  const tasks = members.reduce((n, m) => n + (m.threads ?? 1), 0);
  return {
    procs: procs.filter((p) => !gone.has(p.pid)),
    pids: { ...pids, current: pids.current === null ? null : Math.max(0, pids.current - tasks) },
  };
}

function logKill(env: LadderEnv, ids: { container: string; containerId: string }, plan: KillPlan, batch: SignalBatch, dryRun: boolean): void {
  if (batch.targets.length === 0 && batch.failed.length > 0) {
    // Nothing signalled at this level by this route: say which were not, and why.
    env.log.error({ event: 'error', ...ids, step: plan.step, ...killLineFields(batch), reason: batch.failure ?? 'not signalled', dryRun });
    return;
  }
  env.log.info({
    event: 'kill',
    ...ids,
    step: plan.step,
    ...killLineFields(batch),
    reason: batch.signal === 'SIGKILL' ? 'still alive after the grace period' : plan.reason,
    dryRun,
  });
}
