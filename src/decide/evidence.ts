// Pure: the ground a restart stands on. A restart clears what a fresh start of the image does not
// have: runaway trees, and zombies the container's main process never reaps. So it is justified
// only when those are why the container is over its thresholds: without them, none it crosses
// would still be crossed. A postgres with 130 workers and one npx helper over max-procs 120 is busy,
// not leaking: a restart would bring the 130 back. An nginx worker's child that exited a moment
// ago is a zombie its parent reaps, not the main process's.
import type { PidsReading, Proc } from '../types.ts';
import { figuresOf, health, pidsPressure } from './health.ts';
import { planKill } from './ladder.ts';
import { mainProcesses } from './main-process.ts';
import { isZombie } from './match.ts';
import type { ContainerPolicy } from './policy.ts';
import { runawayTrees } from './runaway.ts';

/**
 * Every restart is decided again on a second look (src/act/ladder-run.ts) at least this long after
 * the look it was first decided on, the ladder's first or the one after its last kill step: a
 * parent reaps its exited child within milliseconds, a Node app's event loop blocked by a burst of
 * work within a second or so; a zombie still there 2 s later is not being reaped. Here because the
 * restart's reason (next-step.ts) names it.
 */
export const RESTART_CONFIRM_GAP_MS = 2_000;

/** What the ladder saw when it started: the only ground a restart may stand on. */
export interface Evidence {
  processes: number | null;
  tasks: number | null;
  runawayTrees: number;
  orphans: number;
  zombies: number;
  /** Zombies whose parent is the container's main process, as "pid@startTicks" (their identity). */
  heldZombies: string[];
  /** Without the runaway trees' processes and the held zombies no threshold crossed would still be. */
  explained: boolean;
}

export function evidenceOf(procs: Proc[] | null, pids: PidsReading, policy: ContainerPolicy): Evidence {
  if (procs === null) {
    return { processes: null, tasks: pids.current, runawayTrees: 0, orphans: 0, zombies: 0, heldZombies: [], explained: false };
  }
  const trees = runawayTrees(procs, policy);
  const held = heldZombies(procs);
  return {
    processes: procs.length,
    tasks: pids.current,
    runawayTrees: trees.length,
    orphans: trees.filter((t) => t.orphan).length,
    zombies: procs.filter(isZombie).length,
    heldZombies: held.map(identity),
    explained: relieves(procs, pids, policy, [...runawayMembers(procs, pids, policy), ...held]),
  };
}

export function hasEvidence(e: Evidence): boolean {
  return e.explained && (e.runawayTrees > 0 || e.heldZombies.length > 0);
}

/**
 * After the kill steps: is what keeps the container over still what a restart clears? null when
 * it is, else why not. Runaway trees now are trees that came back (or survived SIGKILL). A zombie
 * of the main process counts when it is one of the processes the kill steps signalled (`killed`,
 * "pid@startTicks": the main process inherited it from a tree just killed and does not reap it),
 * or when it was there at the start too. Either way the ladder decides a restart twice, on looks
 * at least RESTART_CONFIRM_GAP_MS apart (src/act/ladder-run.ts): a zombie its parent is about to
 * reap (the npm a kill step just ended, its Node parent's event loop busy) is gone by then, one it
 * will never reap is not.
 */
export function restartGroundNow(start: Evidence, procs: Proc[] | null, pids: PidsReading, policy: ContainerPolicy, killed: ReadonlySet<string> = new Set()): string | null {
  if (procs === null) return 'the process table cannot be read now, so nothing shows that a restart would help';
  const fromStart = new Set(start.heldZombies);
  const held = heldZombies(procs).filter((z) => fromStart.has(identity(z)) || killed.has(identity(z)));
  const members = runawayMembers(procs, pids, policy);
  if (relieves(procs, pids, policy, [...members, ...held])) return null;
  const now = health(figuresOf(procs.length, pids), policy);
  return `${now.reasons.join('; ')}: without its ${members.length} runaway processes and ${held.length} zombies held by the main process it would still be over, so a restart would not help`;
}

function heldZombies(procs: Proc[]): Proc[] {
  // Not those of a nested namespace's PID 1 (an inner container of a docker:dind): restarting this
  // container for them ends every inner container, where its 10 zombies were one inner container's.
  const main = mainProcesses(procs, false);
  return procs.filter((p) => isZombie(p) && main.has(p.ppid));
}

/** A process's identity as the ladder keeps it (LadderProgress.killed): PID in the container and start time. */
export function identity(p: Proc): string {
  return `${p.pid}@${p.startTicks ?? '?'}`;
}

/** Every process of every runaway tree the ladder could kill (its last kill step's victims). */
function runawayMembers(procs: Proc[], pids: PidsReading, policy: ContainerPolicy): Proc[] {
  return planKill('all', procs, pids, policy).victims.flatMap((v) => v.tree);
}

/**
 * Without `removed` (each takes its threads) no threshold the container crosses now would still be
 * crossed. Every one it crosses, not some: a main process whose own 450 threads keep pids.current
 * over 0.8 x 512 while 6 npm trees put it over max-procs too is as unhealthy after a restart as
 * before it (test/unit/next-step.test.ts).
 */
function relieves(procs: Proc[], pids: PidsReading, policy: ContainerPolicy, removed: Proc[]): boolean {
  if (removed.length === 0) return false;
  const processes = procs.length - removed.length;
  const tasks = pids.current === null ? null : pids.current - removed.reduce((n, p) => n + (p.threads ?? 1), 0);
  const overProcs = procs.length > policy.maxProcs;
  const overPids = pidsPressure(pids.current, pids.max, policy.pidsRatio);
  if (!overProcs && !overPids) return false;
  return (!overProcs || processes <= policy.maxProcs) && (!overPids || !pidsPressure(tasks, pids.max, policy.pidsRatio));
}
