// Pure: which processes each step of the escalation ladder would kill. No I/O, no clock.
//   1 dedupe  keep the newest --keep of each identical matching command line, kill the rest
//   2 oldest  kill matching processes oldest first until the container would be healthy
//   3 all     kill every matching process
//   4 restart restart the container (decided here, rate-limited by restart-policy.ts)
import type { PidsReading, Proc } from '../types.ts';
import { health, type Thresholds } from './health.ts';
import { mainProcesses } from './main-process.ts';
import { isZombie } from './match.ts';
import { isProtected, runawayTrees, type RunawayRules } from './runaway.ts';
import { childrenIndex, olderFirst, subtree } from './tree.ts';

export const STEPS = ['dedupe', 'oldest', 'all', 'restart'] as const;
export type StepName = (typeof STEPS)[number];

export interface LadderOptions extends Thresholds, RunawayRules {
  keep: number;
}

export interface Victim {
  /** The matching process the step chose. */
  root: Proc;
  /** root plus its live descendants, minus main and protected processes (and what runs below those). */
  tree: Proc[];
}

export interface KillPlan {
  step: Exclude<StepName, 'restart'>;
  victims: Victim[];
  reason: string;
}

/**
 * Never a main process (`main`: mainProcesses of the table; the container dies with it), never
 * a protected process, never a zombie (already dead).
 */
export function killable(p: Proc, protect: RegExp[], main: ReadonlySet<number>): boolean {
  return p.pid !== 1 && p.pid > 0 && !main.has(p.pid) && !isZombie(p) && !isProtected(p, protect);
}

/** What a victim's tree leaves out, with everything below it: main and protected processes. */
function keptOut(protect: RegExp[], main: ReadonlySet<number>): (p: Proc) => boolean {
  return (p) => p.pid === 1 || main.has(p.pid) || isProtected(p, protect);
}

export function planKill(
  step: Exclude<StepName, 'restart'>,
  procs: Proc[],
  pids: PidsReading,
  opts: LadderOptions,
): KillPlan {
  // Roots only: the nested `node` of a kept tree has the same command line as the nested `node`s
  // of the trees to go, and deduping those on their own could pick the kept tree's server.
  const main = mainProcesses(procs);
  const candidates = runawayTrees(procs, opts).map((t) => t.root).filter((p) => killable(p, opts.protect, main));
  let roots: Proc[];
  let reason: string;
  if (step === 'dedupe') {
    roots = dedupeVictims(candidates, opts.keep);
    reason = `duplicate command lines, keeping the newest ${opts.keep} of each`;
  } else if (step === 'oldest') {
    roots = oldestUntilHealthy(candidates, procs, pids, opts, main);
    reason = `oldest runaway trees until at most ${opts.maxProcs} processes`;
  } else {
    roots = candidates;
    reason = 'every runaway tree';
  }
  return { step, victims: toVictims(roots, procs, opts.protect, main), reason };
}

function dedupeVictims(candidates: Proc[], keep: number): Proc[] {
  const groups = new Map<string, Proc[]>();
  // Candidates are runaway roots: a process npm forked but has not exec'd yet still carries npm's
  // title, but it sits inside its parent's tree, so it is never a copy of that tree (runaway.ts).
  for (const p of candidates) {
    // A command line ps cut short is no proof of a copy: 8 different servers cut at 79 bytes
    // read alike (`npm exec @modelcontextprotocol/server-filesystem /da`); oldest and all still reach it.
    if (p.truncated) continue;
    const g = groups.get(p.command);
    if (g) g.push(p);
    else groups.set(p.command, [p]);
  }
  const victims: Proc[] = [];
  for (const group of groups.values()) {
    if (group.length < 2 || group.length <= keep) continue; // a command line seen once is no duplicate
    // Newest last after sorting older-first; everything before the last `keep` goes.
    victims.push(...group.sort(olderFirst).slice(0, group.length - keep));
  }
  return victims;
}


function oldestUntilHealthy(candidates: Proc[], procs: Proc[], pids: PidsReading, opts: LadderOptions, main: ReadonlySet<number>): Proc[] {
  const children = childrenIndex(procs);
  const chosen: Proc[] = [];
  const gone = new Set<number>();
  let procsLeft = procs.length;
  let tasksLeft = pids.current;
  for (const p of [...candidates].sort(olderFirst)) {
    if (health({ processes: procsLeft, tasks: tasksLeft, pidsMax: pids.max }, opts).verdict !== 'unhealthy') break;
    if (gone.has(p.pid)) continue; // already inside an earlier victim's tree
    chosen.push(p);
    for (const member of subtree(p, children, keptOut(opts.protect, main))) {
      if (gone.has(member.pid) || !killable(member, opts.protect, main)) continue;
      gone.add(member.pid);
      procsLeft -= 1;
      // Each process frees its threads; without a thread count assume one task.
      if (tasksLeft !== null) tasksLeft -= member.threads ?? 1;
    }
  }
  return chosen;
}

function toVictims(roots: Proc[], procs: Proc[], protect: RegExp[], main: ReadonlySet<number>): Victim[] {
  const children = childrenIndex(procs);
  const claimed = new Set<number>();
  const victims: Victim[] = [];
  // Outermost first, so a matching process inside another victim's tree is not signalled twice.
  for (const root of [...roots].sort(olderFirst)) {
    if (claimed.has(root.pid)) continue;
    const tree = subtree(root, children, keptOut(protect, main)).filter((p) => killable(p, protect, main) && !claimed.has(p.pid));
    for (const p of tree) claimed.add(p.pid);
    victims.push({ root, tree });
  }
  return victims;
}

/** Steps from --steps in ladder order, starting at `all` under --emergency. */
export function stepsToRun(allowed: StepName[], emergency: boolean): StepName[] {
  const start = emergency ? STEPS.indexOf('all') : 0;
  return STEPS.slice(start).filter((s) => allowed.includes(s));
}
