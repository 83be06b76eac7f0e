// Pure: from one container's observation to what an operator wants to know at a glance.
import type { PidsReading, Proc, Status } from '../types.ts';
import { figuresOf, health, type Thresholds } from './health.ts';
import { isZombie } from './match.ts';
import { runawayTrees, type RunawayRules, type RunawayTree } from './runaway.ts';

export { isZombie, matchesAny } from './match.ts';

export interface DuplicateGroup {
  command: string;
  count: number;
  pids: number[];
}

export interface Assessment {
  status: Status;
  reasons: string[];
  total: number;
  /** Runaway trees (their roots); a runaway process inside another's tree is not counted again. */
  trees: RunawayTree[];
  /** Trees whose `npm exec` wrapper is gone. */
  orphans: number;
  zombies: number;
  duplicates: DuplicateGroup[];
}

/** Identical command lines among the runaway roots; groups of 2+, largest first. */
export function duplicateGroups(roots: Proc[]): DuplicateGroup[] {
  const byCommand = new Map<string, number[]>();
  for (const p of roots) {
    const pids = byCommand.get(p.command);
    if (pids) pids.push(p.pid);
    else byCommand.set(p.command, [p.pid]);
  }
  return [...byCommand.entries()]
    .filter(([, pids]) => pids.length > 1)
    .map(([command, pids]) => ({ command, count: pids.length, pids: pids.sort((a, b) => a - b) }))
    .sort((a, b) => b.count - a.count || a.command.localeCompare(b.command));
}

export function assess(procs: Proc[] | null, pids: PidsReading, t: Thresholds & RunawayRules): Assessment {
  const list = procs ?? [];
  const trees = runawayTrees(list, t);
  const duplicates = duplicateGroups(trees.map((tr) => tr.root));
  const zombies = list.filter(isZombie).length;
  const orphans = trees.filter((tr) => tr.orphan).length;
  const h = health(figuresOf(procs === null ? null : list.length, pids), t);

  const warnings: string[] = [];
  for (const d of duplicates) warnings.push(`${d.count} x duplicate: ${d.command}`);
  if (orphans > 0) warnings.push(`${orphans} orphaned MCP server${orphans === 1 ? '' : 's'} (npm exec wrapper gone)`);
  if (zombies > 0) warnings.push(`${zombies} zombie${zombies === 1 ? '' : 's'}`);
  if (pids.max === null && pids.source !== 'none') warnings.push('no pids limit');
  if (procs === null) warnings.push('processes unknown');
  const status: Status = h.verdict === 'unhealthy' ? 'critical' : warnings.length > 0 ? 'warn' : 'ok';
  return { status, reasons: h.reasons.concat(warnings), total: list.length, trees, orphans, zombies, duplicates };
}
