// Carries one container down the escalation ladder: ask the pure decision (decide/next-step.ts)
// what comes next, do it, observe again, ask again, until it says stop. Shared by `cleanup` (once)
// and `monitor` (every cycle). Holds the container's ladder lock for the whole climb, so two
// pidwardens never act on one container at the same time.
import type { Settings } from '../cli/settings.ts';
import { downAfterRestart, notInspectableAfterRestart, type DownAfterRestart } from '../decide/after-restart.ts';
import { figuresOf, health } from '../decide/health.ts';
import type { KillPlan, StepName } from '../decide/ladder.ts';
import { evidenceOf, identity, RESTART_CONFIRM_GAP_MS } from '../decide/evidence.ts';
import { nextStep, withheldRestart, type LadderProgress, type NextStep } from '../decide/next-step.ts';
import { subtract } from '../decide/plan.ts';
import type { ContainerPolicy } from '../decide/policy.ts';
import { depthsBelow, parentIndex } from '../decide/tree.ts';
import type { Engine } from '../engine/client.ts';
import { probeSlots } from '../engine/probe-slots.ts';
import { inspectById, restartContainer, stopTimeoutOf, stopWithoutEndWhy, StopWithoutEndError, type ContainerInfo } from '../engine/containers.ts';
import type { ActionLog } from '../log/logger.ts';
import { observeContainer } from '../observe/container.ts';
import { probeTimeoutReason, type ContainerObservation } from '../observe/observation.ts';
import type { PidsReading, Proc } from '../types.ts';
import { toTarget } from './identity.ts';
import { killAll, killLineFields, type KillEnv, type SignalBatch } from './kill-trees.ts';
import { kernelViewOf, unlessJoined } from './restart-joiners.ts';
import { initSeenAt, runEnded } from './run-ended.ts';

/** What the ladder needs to remember across runs (the state file) and to share (ladder locks). */
export interface LadderMemory {
  restartHistory(containerId: string): number[];
  /** Counted before the attempt: a failed restart uses up the budget too. */
  recordRestart(containerId: string, name: string, nowMs: number): void;
  /** null: another pidwarden is running a ladder on this container. */
  tryLockContainer(containerId: string): (() => void) | null;
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
  /** Stopped or removed during the ladder, before any restart of ours. */
  gone: boolean;
  /** Restarted by this ladder and not running afterwards (exited, restarting, restarted again): never healthy. */
  downAfterRestart?: DownAfterRestart;
  /** Another pidwarden held the container's ladder lock: nothing was done. */
  busy: boolean;
  /** A restart was due but not done: restart-skipped (no evidence, rule never, PID-namespace joiners) or restart-suppressed (limit). */
  restartWithheld?: 'restart-skipped' | 'restart-suppressed';
  /** Why the ladder stopped where it did. */
  stopReason: string;
}

interface Figures {
  processes: number | null;
  pidsCurrent: number | null;
}

export interface LadderEnv {
  engine: Engine;
  settings: Settings;
  log: ActionLog;
  memory: LadderMemory;
  execTimeoutMs: number;
  /** Checked between steps: a monitor asked to stop finishes the current action, then returns. */
  shouldStop?: () => boolean;
}

/** Sleeps `ms` (none when <= 0), in steps of at most 100 ms so that a stopping monitor is not held up. */
async function pause(ms: number, shouldStop?: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until && !shouldStop?.()) await Bun.sleep(Math.min(100, until - performance.now()));
}

/**
 * Bound on decisions per climb: 3 kill steps, a restart decided and then confirmed on a second
 * look (2), and the decision after it need 6; a confirming look that finds victims back adds a
 * decision before each confirmation. 12 leaves room for that; the rest is a guard.
 */
const MAX_DECISIONS = 12;

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

/**
 * The look right after a restart of ours: not running then is no operator's stop but the
 * restart's outcome (its main process exited at once, or the engine is restarting it again).
 */
async function observeAfterRestart(env: LadderEnv, id: string): Promise<ContainerObservation | DownAfterRestart> {
  const seen = await inspectAfterRestart(env, id);
  if (seen.down) return seen.down;
  return observeForLadder(env.engine, env.settings, seen.info, env.execTimeoutMs);
}

/**
 * The container after a restart of ours: down, or the inspect of the run it is in (with `upAt`,
 * only while it still runs that start). An inspect that fails (no answer within --timeout, an
 * answer that is no container) leaves its state unknown and the climb still ends with its result
 * line: thrown, it would leave a restart that happened unsaid there and in cleanup's summary.
 */
async function inspectAfterRestart(env: LadderEnv, id: string, upAt?: string): Promise<{ down: DownAfterRestart } | { down: null; info: ContainerInfo }> {
  let info: ContainerInfo | null;
  try {
    info = await inspectById(env.engine, id);
  } catch (e) {
    return { down: notInspectableAfterRestart(e instanceof Error ? e.message : String(e)) };
  }
  const down = downAfterRestart(info, upAt);
  return down ? { down } : { down: null, info: info! };
}

/** What the ladder needs of a container: pids and processes, no stats. At most --concurrency at once (probe-slots.ts). */
export function observeForLadder(engine: Engine, s: Settings, info: ContainerInfo, execTimeoutMs: number): Promise<ContainerObservation> {
  return probeSlots(engine, s.concurrency).run(() =>
    observeContainer(engine, info, {
      procRoot: s.procRoot,
      cgroupRoot: s.cgroupRoot,
      processes: true,
      stats: false,
      preferHost: s.procSource === 'host',
      execTimeoutMs,
    }),
  );
}

export async function runLadder(env: LadderEnv, first: ContainerObservation, policy: ContainerPolicy): Promise<LadderOutcome> {
  // A dry run acts on nothing, so it neither takes the lock nor waits for it: held by a
  // `monitor --dry-run`, it made a real cron cleanup of the container log `busy` and do nothing.
  const release = env.settings.dryRun ? () => {} : env.memory.tryLockContainer(first.info.id);
  if (!release) {
    const reason = 'another pidwarden is running a ladder on this container';
    env.log.info({ event: 'busy', container: first.info.name, containerId: first.info.id, reason, dryRun: env.settings.dryRun });
    const none = figures(first.table?.procs ?? null, first.pids);
    return {
      container: first.info.name,
      healthyBefore: false,
      healthy: false,
      before: none,
      after: none,
      stepsRun: [],
      killed: 0,
      restarted: false,
      gone: false,
      busy: true,
      stopReason: reason,
    };
  }
  try {
    return await climb(env, first, policy);
  } finally {
    release();
  }
}

/**
 * The ladder's environment for its next look: once a probe of this container hit --timeout, the
 * later looks of the same climb read the host's /proc (local engine only), as the monitor's
 * backoff does between cycles. Each look would otherwise wait --timeout again: a cleanup of 3
 * steps on a container whose ps hangs took 4 x --timeout.
 */
function afterProbeTimeout(env: LadderEnv, obs: ContainerObservation): LadderEnv {
  if (env.settings.procSource === 'host' || !env.engine.local || probeTimeoutReason(obs) === undefined) return env;
  return { ...env, settings: { ...env.settings, procSource: 'host' } };
}

async function climb(envIn: LadderEnv, first: ContainerObservation, policy: ContainerPolicy): Promise<LadderOutcome> {
  let env = afterProbeTimeout(envIn, first);
  /** observeForAction, and after a probe that timed out the later looks read the host. */
  const look = async (o: ContainerObservation): Promise<ContainerObservation | null> => {
    const seen = await observeForAction(env, o);
    if (seen) env = afterProbeTimeout(env, seen);
    return seen;
  };
  const s = env.settings;
  const ids = { container: first.info.name, containerId: first.info.id };
  // Look again before the first action too: the observation handed in may be seconds old, and a
  // container paused, stopped or removed since then is left alone (a paused one's processes are
  // frozen; an operator's stop is their decision). Later steps re-inspect in observeForAction.
  const stillRunning = first.table ? await inspectById(env.engine, first.info.id) : null;
  const reObserved = first.table ? null : await look(first);
  let obs: ContainerObservation = reObserved ?? first;
  const goneAtStart = first.table ? !stillRunning || !stillRunning.running : reObserved === null;
  const before = figures(obs.table?.procs ?? null, obs.pids);
  const initSeen = await initSeenAt(obs, s.procRoot);
  const verdictOf = (procs: Proc[] | null, pids: PidsReading) => health(figuresOf(procs?.length ?? null, pids), policy).verdict;
  const healthyBefore = verdictOf(obs.table?.procs ?? null, obs.pids) === 'healthy';
  const evidence = evidenceOf(obs.table?.procs ?? null, obs.pids, policy);
  /** When the look the next decision stands on ended: the first, or the one after a kill step. */
  let lookedAtMs = performance.now();
  const progress: LadderProgress = { passed: [], restartAttempted: false, killed: [] };
  const stepsRun: StepName[] = [];
  let killed = 0;
  let restarted = false;
  /** Stopped or removed under us (by an operator): the ladder ends, nothing more is done to it. */
  let gone = goneAtStart;
  let down: DownAfterRestart | null = null;
  let stop: (NextStep & { kind: 'stop' }) | null = null;
  /**
   * Every restart is decided again on a second look at least RESTART_CONFIRM_GAP_MS after the look
   * it was first decided on (earlyoom re-checks before it acts), after kill steps too: the npm
   * roots a kill step ends are zombies of the main process until it reaps them, and a Node main
   * whose event loop is busy does so a second or so later, while the look right after the kill
   * (250 ms of waiting for the reaping, then ps) still sees them and counts them as held
   * (src/decide/evidence.ts). The zombies must still be there, and an observation older than
   * someone else's restart is replaced. Not in a dry run after simulated kill steps: the
   * simulated view has nothing to look at again.
   */
  let confirmed = false;
  // Dry run: the would-be victims are subtracted from a simulated view, so the next step is
  // decided as it would be after the real kill, and a dry run shows where the ladder would stop.
  let simulated: { procs: Proc[]; pids: PidsReading } | null = null;

  for (let round = 0; round < MAX_DECISIONS && !gone && !env.shouldStop?.(); round++) {
    // observed from the API only (a shared PID namespace on a remote engine): never acted on
    if (obs.layout.refusal) {
      stop = { kind: 'stop', verdict: 'unknown', reason: obs.layout.refusal, passed: [] };
      break;
    }
    const procs = simulated?.procs ?? obs.table?.procs ?? null;
    const pids = simulated?.pids ?? obs.pids;
    let next = nextStep({
      procs,
      pids,
      policy,
      emergency: s.emergency,
      evidence,
      progress,
      restartHistory: env.memory.restartHistory(obs.info.id),
      nowMs: Date.now(),
    });
    if (next.kind === 'restart' && !confirmed && simulated === null) {
      confirmed = true;
      await pause(lookedAtMs + RESTART_CONFIRM_GAP_MS - performance.now(), env.shouldStop);
      if (env.shouldStop?.()) break; // a monitor asked to stop does not restart on the first look alone
      const again = await look(obs);
      if (!again) {
        gone = true;
        break;
      }
      obs = again;
      lookedAtMs = performance.now();
      continue;
    }
    if (next.kind === 'restart') {
      // A stop with no end would outlast the call's deadline (containers.ts, stopWithoutEndWhy), and
      // its init's death would take down every container that joined its PID namespace (restart-joiners.ts).
      const timeout = stopTimeoutOf(obs.info, s.stopTimeoutSeconds);
      next = timeout.seconds === null ? withheldRestart(next, stopWithoutEndWhy(timeout, 'restart')) : await unlessJoined(env.engine, obs.info, next, kernelViewOf(obs.layout, s.procRoot));
    }
    if (next.kind === 'restart') {
      // The look this restart stands on began with its inspect; its ps and cat (up to --timeout
      // each) and the joiner check above (a listing, and an inspect per container not seen before)
      // came after it. An operator's stop in between was undone (a restart starts a stopped
      // container), and a run the engine or someone else had restarted meanwhile was restarted
      // again on a look at the run before (test/unit/restart-recheck.test.ts). So one more inspect,
      // right before the request: still running, and still the run that was looked at.
      const now = await inspectById(env.engine, obs.info.id);
      if (!now || !now.running) {
        gone = true;
        break;
      }
      if (now.startedAt !== obs.info.startedAt || now.initPid !== obs.info.initPid) {
        // Another run: decide on a look at it, and a restart of it only on a second look.
        obs = await observeForLadder(env.engine, s, now, env.execTimeoutMs);
        env = afterProbeTimeout(env, obs);
        lookedAtMs = performance.now();
        confirmed = false;
        continue;
      }
    }
    progress.passed.push(...next.passed);
    if (next.kind === 'stop') {
      stop = next;
      if (next.event) {
        env.log.warn({
          event: next.event,
          ...ids,
          step: 'restart',
          reason: next.reason,
          processes: evidence.processes,
          pidsCurrent: evidence.tasks,
          runawayTrees: evidence.runawayTrees,
          zombies: evidence.zombies,
          ...(next.retryAtMs === undefined ? {} : { retryAt: new Date(next.retryAtMs).toISOString() }),
          dryRun: s.dryRun,
        });
      }
      break;
    }
    if (next.kind === 'restart') {
      progress.passed.push('restart');
      progress.restartAttempted = true;
      stepsRun.push('restart');
      const timeout = stopTimeoutOf(obs.info, s.stopTimeoutSeconds);
      // never: such a restart was withheld above
      if (timeout.seconds === null) throw new StopWithoutEndError(`${obs.info.name}: its StopTimeout is ${timeout.configured}: no restart without an end`);
      env.log.info({ event: 'step', ...ids, step: 'restart', reason: next.reason, dryRun: s.dryRun });
      env.log.info({
        event: 'restart',
        ...ids,
        step: 'restart',
        reason: `stop timeout ${timeout.seconds}s (${timeout.from})`,
        stopTimeout: timeout.seconds,
        stopTimeoutFrom: timeout.from,
        restartsInWindow: next.recent,
        dryRun: s.dryRun,
      });
      if (s.dryRun) break; // what a restart would leave behind cannot be simulated
      env.memory.recordRestart(obs.info.id, obs.info.name, Date.now());
      await restartContainer(env.engine, obs.info.id, timeout);
      restarted = true;
      const after = await observeAfterRestart(env, obs.info.id);
      if (!('info' in after)) {
        down = after;
        break;
      }
      obs = after;
      env = afterProbeTimeout(env, obs);
      continue;
    }
    const { plan } = next;
    progress.passed.push(plan.step);
    progress.killed!.push(...plan.victims.flatMap((v) => v.tree.map(identity)));
    stepsRun.push(plan.step);
    const outcome = await carryOutKill(env, ids, obs, plan, procs!);
    killed += outcome.killed;
    if (s.dryRun) {
      simulated = subtract(procs!, pids, plan.victims.flatMap((v) => v.tree));
      continue;
    }
    const after = await look(obs);
    if (!after) {
      gone = true;
      break;
    }
    obs = after;
    lookedAtMs = performance.now();
    confirmed = false;
  }

  // Up at the look after our restart is not up for good: a main process that dies a moment later,
  // brought back by the engine's restart policy, runs under a newer StartedAt (a crash loop). One
  // more inspect, right before the verdict, sees the run the look after the restart observed.
  if (restarted && down === null) down = (await inspectAfterRestart(env, obs.info.id, obs.info.startedAt)).down;
  // Ending unhealthy: first make sure the run looked at is still there (src/act/run-ended.ts).
  if (!s.dryRun && !gone && down === null && !restarted && verdictOf(obs.table?.procs ?? null, obs.pids) !== 'healthy') {
    gone = await runEnded(env.engine, obs.info, initSeen);
  }
  const finalProcs = simulated?.procs ?? obs.table?.procs ?? null;
  const finalPids = simulated?.pids ?? obs.pids;
  // down: the last figures were of a run that is over (or of the container before the restart)
  const after: Figures = down ? { processes: null, pidsCurrent: null } : figures(finalProcs, finalPids);
  // A container stopped or removed under us runs nothing away any more: healthy, and said so.
  // One our restart left down is not: that was the restart's outcome, not an operator's decision.
  const healthyAfter = down === null && (gone || (s.dryRun ? healthyBefore : verdictOf(obs.table?.procs ?? null, obs.pids) === 'healthy'));
  const wouldBeHealthy = s.dryRun ? verdictOf(finalProcs, finalPids) === 'healthy' : undefined;
  const stopReason = down
    ? down.state === 'unknown'
      ? `restarted; ${down.said}`
      : `restarted, and not running after the restart: ${down.said}`
    : gone
      ? 'the container stopped, paused or went away during cleanup; nothing more done to it'
      : (stop?.reason ?? 'interrupted');
  env.log.info({
    event: 'result',
    ...ids,
    before,
    after,
    healthy: healthyAfter,
    ...(wouldBeHealthy === undefined ? {} : { wouldBeHealthy }),
    ...(down ? { stateAfterRestart: down.state } : {}),
    reason: stopReason,
    steps: stepsRun,
    dryRun: s.dryRun,
  });
  return {
    container: first.info.name,
    healthyBefore,
    healthy: healthyAfter,
    wouldBeHealthy,
    gone,
    ...(down ? { downAfterRestart: down } : {}),
    busy: false,
    before,
    after,
    stepsRun,
    killed,
    restarted,
    ...(stop?.event ? { restartWithheld: stop.event } : {}),
    stopReason,
  };
}

async function carryOutKill(
  env: LadderEnv,
  ids: { container: string; containerId: string },
  obs: ContainerObservation,
  plan: KillPlan,
  procs: Proc[],
): Promise<{ killed: number }> {
  const s = env.settings;
  const members = plan.victims.flatMap((v) => v.tree);
  const parentOf = parentIndex(procs);
  const targets = plan.victims.flatMap((v) => {
    const depths = depthsBelow(v.root.pid, v.tree, parentOf);
    return v.tree.map((p) => toTarget(p, depths.get(p.pid)));
  });
  env.log.info({ event: 'step', ...ids, step: plan.step, reason: plan.reason, dryRun: s.dryRun, victims: plan.victims.length, processes: members.length });
  const killEnv: KillEnv = {
    engine: env.engine,
    containerId: obs.info.id,
    cgroupDir: obs.cgroupDir,
    nsDepth: obs.layout.nsDepth,
    pidNamespace: obs.layout.pidNamespace ?? null,
    sharedPidNamespace: obs.layout.sharedPidNamespace,
    procRoot: s.procRoot,
    hostSignals: obs.layout.hostSignals,
    execAllowed: !obs.layout.sharedPidNamespace,
    execTimeoutMs: env.execTimeoutMs,
    dryRun: s.dryRun,
    shouldStop: env.shouldStop,
  };
  // A dry run goes through the same identity checks and choice of route; only the signals are skipped.
  const report = await killAll(killEnv, targets, s.graceSeconds * 1000, (batch) => logKill(env, ids, plan, batch, s.dryRun));
  if (s.dryRun) return { killed: members.length };
  if (report.survivors.length > 0) {
    env.log.error({
      event: 'error',
      ...ids,
      step: plan.step,
      pids: report.survivors.map((t) => t.pid),
      reason: 'still alive after SIGKILL (uninterruptible sleep?)',
      dryRun: false,
    });
  }
  return { killed: report.batches.filter((b) => b.signal === 'SIGTERM').reduce((n, b) => n + b.targets.length + b.gone.length, 0) };
}

function figures(procs: Proc[] | null, pids: PidsReading): Figures {
  return { processes: procs?.length ?? null, pidsCurrent: pids.current };
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
