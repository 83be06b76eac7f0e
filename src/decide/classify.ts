// Pure: from one container's observation to what an operator wants to know at a glance.
import type { PidsReading, Proc, Status } from '../types.ts';

export interface Thresholds {
  maxProcs: number;
  pidsRatio: number;
}

export interface DuplicateGroup {
  command: string;
  count: number;
  pids: number[];
}

export interface Assessment {
  status: Status;
  reasons: string[];
  total: number;
  matching: Proc[];
  zombies: number;
  duplicates: DuplicateGroup[];
}

export function isZombie(p: Proc): boolean {
  return p.state === 'Z';
}

export function matchesAny(command: string, patterns: RegExp[]): boolean {
  return patterns.some((re) => re.test(command));
}

/** Live processes whose command line matches --match (zombies can't be killed, so never match). */
export function matchingProcs(procs: Proc[], match: RegExp[]): Proc[] {
  return procs.filter((p) => !isZombie(p) && matchesAny(p.command, match));
}

/** Identical command lines among the matching processes; groups of 2+, largest first. */
export function duplicateGroups(matching: Proc[]): DuplicateGroup[] {
  const byCommand = new Map<string, number[]>();
  for (const p of matching) {
    const pids = byCommand.get(p.command);
    if (pids) pids.push(p.pid);
    else byCommand.set(p.command, [p.pid]);
  }
  return [...byCommand.entries()]
    .filter(([, pids]) => pids.length > 1)
    .map(([command, pids]) => ({ command, count: pids.length, pids: pids.sort((a, b) => a - b) }))
    .sort((a, b) => b.count - a.count || a.command.localeCompare(b.command));
}

/** pids.current at or above ratio × pids.max. Unknown figures never make a container critical. */
export function pidsPressure(pids: PidsReading, ratio: number): boolean {
  if (pids.current === null || pids.max === null) return false;
  // Divide rather than multiply: 0.55 * 100 is 55.00000000000001, so 55 >= 0.55 * 100 is false,
  // while 55 / 100 rounds to the same double as the literal 0.55. pids.max 0 admits no new task.
  return pids.max === 0 || pids.current / pids.max >= ratio;
}

/** The health rule shared by audit (status) and the cleanup ladder (when to stop). */
export function isHealthy(totalProcs: number | null, pids: PidsReading, t: Thresholds): boolean {
  return (totalProcs === null || totalProcs <= t.maxProcs) && !pidsPressure(pids, t.pidsRatio);
}

export function assess(
  procs: Proc[] | null,
  pids: PidsReading,
  t: Thresholds & { match: RegExp[] },
): Assessment {
  const reasons: string[] = [];
  const list = procs ?? [];
  const total = list.length;
  const matching = matchingProcs(list, t.match);
  const duplicates = duplicateGroups(matching);
  const zombies = list.filter(isZombie).length;

  let status: Status = 'ok';
  if (procs !== null && total > t.maxProcs) reasons.push(`${total} processes > max-procs ${t.maxProcs}`);
  if (pidsPressure(pids, t.pidsRatio)) {
    reasons.push(`pids.current ${pids.current} >= ${t.pidsRatio} x pids.max ${pids.max}`);
  }
  if (reasons.length > 0) status = 'critical';

  const warnings: string[] = [];
  for (const d of duplicates) warnings.push(`${d.count} x duplicate: ${d.command}`);
  if (zombies > 0) warnings.push(`${zombies} zombie${zombies === 1 ? '' : 's'}`);
  if (pids.max === null && pids.source !== 'none') warnings.push('no pids limit');
  if (procs === null) warnings.push('processes unknown');
  if (status === 'ok' && warnings.length > 0) status = 'warn';
  return { status, reasons: reasons.concat(warnings), total, matching, zombies, duplicates };
}
