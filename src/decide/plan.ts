// Pure: the whole ladder a cleanup would climb now, decided by nextStep (the same function cleanup
// uses) on a simulated table: after each kill step its victims are taken out, as the next
// observation would show them. What explain prints and what a dry run logs.
import type { PidsReading, Proc } from '../types.ts';
import { figuresOf, health, type HealthVerdict } from './health.ts';
import { nextStep, type LadderProgress, type NextStep, type NextStepInput } from './next-step.ts';

export type PlannedStep = Exclude<NextStep, { kind: 'stop' }>;

export interface Plan {
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

export function planLadder(input: Omit<NextStepInput, 'progress'>): Plan {
  const progress: LadderProgress = { passed: [], restartAttempted: false };
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
    steps.push(next);
    if (next.kind === 'restart') break;
    progress.passed.push(next.plan.step);
    const after = subtract(procs!, pids, next.plan.victims.flatMap((v) => v.tree));
    procs = after.procs;
    pids = after.pids;
  }
  return {
    steps,
    stop,
    after: { processes: procs?.length ?? null, pidsCurrent: pids.current, verdict: health(figuresOf(procs?.length ?? null, pids), input.policy).verdict },
  };
}
