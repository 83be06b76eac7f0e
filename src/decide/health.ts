// Pure: THE health rule. Audit's status, the ladder's "go on / stop", the cleanup verdict and the
// monitor's cheap check all ask this one function, each with the figures it has.
import type { PidsReading } from '../types.ts';

export interface Thresholds {
  maxProcs: number;
  pidsRatio: number;
}

export interface HealthFigures {
  /** Processes in the container (zombies included), or null when not read. */
  processes: number | null;
  /** pids.current: tasks, i.e. every thread and every zombie; null when not read. */
  tasks: number | null;
  pidsMax: number | null;
}

/**
 * healthy: shown to be within both thresholds. unhealthy: shown to be over one. unknown: the
 * process count was not read and the task count (an upper bound of it: every process is at
 * least one task) is too high to vouch for it.
 */
export type HealthVerdict = 'healthy' | 'unhealthy' | 'unknown';

export interface Health {
  verdict: HealthVerdict;
  /** Why it is unhealthy, one plain phrase per threshold crossed. */
  reasons: string[];
}

/** pids.current at or above ratio x pids.max. Unknown figures never count as pressure. */
export function pidsPressure(tasks: number | null, pidsMax: number | null, ratio: number): boolean {
  if (tasks === null || pidsMax === null) return false;
  // Divide rather than multiply: 0.55 * 100 is 55.00000000000001, so 55 >= 0.55 * 100 is false,
  // while 55 / 100 rounds to the same double as the literal 0.55. pids.max 0 admits no new task.
  return pidsMax === 0 || tasks / pidsMax >= ratio;
}

export function health(f: HealthFigures, t: Thresholds): Health {
  const reasons: string[] = [];
  if (f.processes !== null && f.processes > t.maxProcs) reasons.push(`${f.processes} processes > max-procs ${t.maxProcs}`);
  if (pidsPressure(f.tasks, f.pidsMax, t.pidsRatio)) reasons.push(`pids.current ${f.tasks} >= ${t.pidsRatio} x pids.max ${f.pidsMax}`);
  if (reasons.length > 0) return { verdict: 'unhealthy', reasons };
  const bounded = f.processes !== null || (f.tasks !== null && f.tasks <= t.maxProcs);
  return { verdict: bounded ? 'healthy' : 'unknown', reasons };
}

export function figuresOf(processes: number | null, pids: PidsReading): HealthFigures {
  return { processes, tasks: pids.current, pidsMax: pids.max };
}
