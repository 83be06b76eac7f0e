// Pure: THE ladder decision. Given what was just observed, what this run has done so far, the
// container's restart history, the time and its effective policy, say what comes next: a kill step
// with its victims, a restart, or stop (and with what verdict). No I/O, no clock: src/act/ only
// carries the answer out, observes again, and asks again (moby's restartmanager and earlyoom's
// main loop work the same way).
import type { PidsReading, Proc } from '../types.ts';
import { figuresOf, health, type Health, type HealthVerdict } from './health.ts';
import { planKill, stepsToRun, type KillPlan, type StepName } from './ladder.ts';
import { hasEvidence, RESTART_CONFIRM_GAP_MS, restartGroundNow, type Evidence } from './evidence.ts';
import type { ContainerPolicy } from './policy.ts';
import { decideRestart } from './restart-policy.ts';

export interface LadderProgress {
  /** Steps taken or passed over (nothing to do), in ladder order. */
  passed: StepName[];
  restartAttempted: boolean;
  /** Every process the kill steps signalled, as "pid@startTicks" (src/decide/evidence.ts: the zombies they may leave). */
  killed?: string[];
}

export interface NextStepInput {
  procs: Proc[] | null;
  pids: PidsReading;
  policy: ContainerPolicy;
  emergency: boolean;
  evidence: Evidence;
  progress: LadderProgress;
  /** Restart attempts of this container (ms since the epoch), from the state file. */
  restartHistory: readonly number[];
  nowMs: number;
}

export type StopEvent = 'restart-suppressed' | 'restart-skipped';

export type NextStep =
  | { kind: 'kill'; plan: KillPlan; passed: StepName[] }
  | { kind: 'restart'; reason: string; recent: number; passed: StepName[] }
  | {
      kind: 'stop';
      verdict: HealthVerdict;
      reason: string;
      /** A restart was due but is not done: the log says why, at warn level. */
      event?: StopEvent;
      retryAtMs?: number;
      passed: StepName[];
    };

/**
 * A restart decided here and then withheld by what is asked right before it is carried out (its
 * stop would have no end, other containers share its PID namespace): restart-skipped, saying why.
 */
export function withheldRestart(next: NextStep & { kind: 'restart' }, reason: string): NextStep & { kind: 'stop' } {
  return { kind: 'stop', verdict: 'unhealthy', reason, event: 'restart-skipped', passed: [...next.passed, 'restart'] };
}

export function nextStep(input: NextStepInput): NextStep {
  const { procs, pids, policy } = input;
  const now = health(figuresOf(procs?.length ?? null, pids), policy);
  const passed: StepName[] = [];
  if (now.verdict !== 'unhealthy') {
    return { kind: 'stop', verdict: now.verdict, reason: now.verdict === 'healthy' ? 'healthy' : 'process count unknown and no pids pressure', passed };
  }
  for (const step of stepsToRun(policy.steps, input.emergency)) {
    if (input.progress.passed.includes(step)) continue;
    if (step === 'restart') return restartOrStop(input, now, passed);
    // Without a process table there is nothing to choose victims from, and a kill step not taken
    // is no step passed: the ladder stops here rather than go on to a restart "after" it.
    if (procs === null) {
      return { kind: 'stop', verdict: 'unknown', reason: `${now.reasons.join('; ')}; the process table cannot be read, so step ${step} cannot choose victims; nothing more done`, passed };
    }
    const plan = planKill(step, procs, pids, policy);
    if (plan.victims.length > 0) return { kind: 'kill', plan, passed };
    passed.push(step);
  }
  return { kind: 'stop', verdict: 'unhealthy', reason: `${now.reasons.join('; ')}; no allowed step left (steps ${policy.steps.join(',')})`, passed };
}

function restartOrStop(input: NextStepInput, now: Health, passed: StepName[]): NextStep {
  const { policy, evidence } = input;
  const stop = (reason: string, event?: StopEvent, retryAtMs?: number): NextStep => ({
    kind: 'stop',
    verdict: 'unhealthy',
    reason,
    passed: [...passed, 'restart'],
    ...(event ? { event } : {}),
    ...(retryAtMs === undefined ? {} : { retryAtMs }),
  });
  // One restart per ladder: a container still unhealthy right after one is not helped by a second.
  if (input.progress.restartAttempted) return stop(`${now.reasons.join('; ')}; still unhealthy after a restart`);
  if (policy.restart === 'never') return stop(`${now.reasons.join('; ')}; restarts are off for this container (restart rule "never")`, 'restart-skipped');
  if (policy.restart === 'evidence') {
    if (!hasEvidence(evidence)) return stop(noEvidenceReason(evidence, now), 'restart-skipped');
    const notNow = restartGroundNow(evidence, input.procs, input.pids, policy, new Set(input.progress.killed ?? []));
    if (notNow !== null) return stop(`no evidence that a restart would help: ${notNow} (or label it pidwarden.restart=always)`, 'restart-skipped');
  }
  const gate = decideRestart(input.restartHistory, input.nowMs, policy.restartLimit);
  if (!gate.allowed) {
    const limit = `${policy.restartLimit.count} per ${Math.round(policy.restartLimit.windowMs / 60_000)} min`;
    return stop(`restart limit reached: ${gate.recent} restart attempts in the window (limit ${limit})`, 'restart-suppressed', gate.retryAtMs);
  }
  const why = !hasEvidence(evidence)
    ? 'still unhealthy; restart rule "always"'
    : evidence.runawayTrees > 0
      ? `still unhealthy after the kill steps; ${evidence.runawayTrees} runaway tree${evidence.runawayTrees === 1 ? '' : 's'} when the ladder started, and what keeps it over is runaway processes or zombies they left`
      : zombiesReason(evidence, (input.progress.killed ?? []).length > 0);
  return { kind: 'restart', reason: why, recent: gate.recent, passed };
}

/**
 * Why zombies of the main process justify a restart. The restart waits for a second look at least
 * RESTART_CONFIRM_GAP_MS after the look it was decided on (src/act/ladder-run.ts), after kill steps
 * too, that must find them still there: explain's plan is the first look, so the reason says what
 * cleanup will check, not that it has been checked.
 */
function zombiesReason(e: Evidence, afterKills: boolean): string {
  const n = `${e.heldZombies.length} zombie${e.heldZombies.length === 1 ? '' : 's'} of the main process`;
  if (afterKills) return `${n} at the start, and what keeps it unhealthy after the kill steps is those or zombies the kill steps left: it does not reap them, only a restart clears them`;
  return `${n} keep it unhealthy: pidwarden restarts only when a second look, at least ${RESTART_CONFIRM_GAP_MS / 1000} s after its first, finds the same ones (a main process that leaves them that long does not reap them; only a restart clears them)`;
}

/** Says what was seen and the way out, e.g. "21 processes, none runaway: raise pidwarden.max-procs ...". */
function noEvidenceReason(e: Evidence, now: Health): string {
  const seen = e.processes === null
    ? `process table unreadable (${now.reasons.join('; ')})`
    : e.runawayTrees > 0 || e.heldZombies.length > 0
      ? `${now.reasons.join('; ')}; its ${e.runawayTrees} runaway tree${e.runawayTrees === 1 ? '' : 's'} and ${e.heldZombies.length} zombies of the main process were not what put it over (without them it would still have been)`
      : `${now.reasons.join('; ')}, none runaway (no process matches --match or runs from the npx cache)${e.zombies > 0 ? `, ${e.zombies} zombies are not what puts it over` : ''}`;
  const way = now.reasons.some((r) => r.startsWith('pids.current'))
    ? 'raise pidwarden.pids-ratio or its pids limit, or widen --match'
    : 'raise pidwarden.max-procs on this container or widen --match';
  return `no evidence that a restart would help: ${seen}; ${way} (or label it pidwarden.restart=always)`;
}
