// Pure: the whole ladder a cleanup would climb now, decided by nextStep (the same function cleanup
// uses) on a simulated table: after each kill step its victims are taken out, as the next
// observation would show them. What explain prints and what a dry run logs.
import type { PidsReading, Proc } from '../types.ts';
import { figuresOf, health, type HealthVerdict } from './health.ts';
import { identity } from './evidence.ts';
import { nextStep, withheldRestart, type LadderProgress, type NextStep, type NextStepInput } from './next-step.ts';

export type PlannedStep = Exclude<NextStep, { kind: 'stop' }>;

export interface Plan {
  /**
   * Why cleanup leaves this container alone whatever its state (label pidwarden.enable=false,
   * --exclude, a layout it never acts on), or null: then there are no steps.
   */
  leftAlone: string | null;
  steps: PlannedStep[];
  /** How the ladder would end: its stop decision, or null when it would restart (unknowable after). */
  stop: (NextStep & { kind: 'stop' }) | null;
  /** The simulated figures at the end (before any restart). */
  after: { processes: number | null; pidsCurrent: number | null; verdict: HealthVerdict };
}

/** Bound: 3 kill steps and a restart; the rest is a guard against a decision loop. */
const MAX_STEPS = 8;

/** The table and pids.current once `members` are gone (each takes its threads with it). */
export function subtract(procs: Proc[], pids: PidsReading, members: Proc[]): { procs: Proc[]; pids: PidsReading } {
  const gone = new Set(members.map((m) => m.pid));
  const tasks = members.reduce((n, m) => n + (m.threads ?? 1), 0);
  return {
    procs: procs.filter((p) => !gone.has(p.pid)),
    pids: { ...pids, current: pids.current === null ? null : Math.max(0, pids.current - tasks) },
  };
}

export interface PlanInput extends Omit<NextStepInput, 'progress'> {
  /** Why cleanup would not act on the container at all (select.ts leftOutBecause, Layout.refusal), or null. */
  leftAlone: string | null;
  /**
   * Why cleanup would withhold a restart it decided (its stop has no end: src/engine/containers.ts;
   * other containers share the PID namespace: src/act/restart-joiners.ts), or null: the plan then
   * ends in the same restart-skipped stop.
   */
  restartWithheld?: string | null;
}

export function planLadder(input: PlanInput): Plan {
  if (input.leftAlone !== null) {
    // cleanup never selects it, or stops before its first decision (src/act/ladder-run.ts): no step
    const verdict = health(figuresOf(input.procs?.length ?? null, input.pids), input.policy).verdict;
    return {
      leftAlone: input.leftAlone,
      steps: [],
      stop: { kind: 'stop', verdict, reason: `cleanup leaves this container alone: ${input.leftAlone}`, passed: [] },
      after: { processes: input.procs?.length ?? null, pidsCurrent: input.pids.current, verdict },
    };
  }
  const progress: LadderProgress = { passed: [], restartAttempted: false, killed: [] };
  let procs = input.procs;
  let pids = input.pids;
  const steps: PlannedStep[] = [];
  let stop: Plan['stop'] = null;
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = nextStep({ ...input, procs, pids, progress });
    progress.passed.push(...next.passed);
    if (next.kind === 'stop') {
      stop = next;
      break;
    }
    if (next.kind === 'restart' && input.restartWithheld) {
      stop = withheldRestart(next, input.restartWithheld);
      break;
    }
    steps.push(next);
    if (next.kind === 'restart') break;
    progress.passed.push(next.plan.step);
    progress.killed!.push(...next.plan.victims.flatMap((v) => v.tree.map(identity)));
    const after = subtract(procs!, pids, next.plan.victims.flatMap((v) => v.tree));
    procs = after.procs;
    pids = after.pids;
  }
  return {
    leftAlone: null,
    steps,
    stop,
    after: { processes: procs?.length ?? null, pidsCurrent: pids.current, verdict: health(figuresOf(procs?.length ?? null, pids), input.policy).verdict },
  };
}
