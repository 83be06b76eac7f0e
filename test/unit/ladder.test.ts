import { describe, expect, test } from 'bun:test';
import { killable, planKill, STEPS, stepsToRun, type KillPlan, type LadderOptions } from '../../src/decide/ladder.ts';
import { olderFirst } from '../../src/decide/tree.ts';
import { figuresOf, health } from '../../src/decide/health.ts';
import type { PidsReading, Proc } from '../../src/types.ts';
import { MAGIC, descendantsOf, magicTree, metamcpProcs, pidsOf, proc, sortedPids, totalTasks } from './helpers/procs.ts';

const NPM_EXEC = /^npm exec /u;

function opts(over: Partial<LadderOptions> = {}): LadderOptions {
  return { match: [NPM_EXEC], protect: [], keep: 1, maxProcs: 15, pidsRatio: 0.8, npxOrphans: false, ...over };
}

const isHealthy = (processes: number | null, p: PidsReading, t: { maxProcs: number; pidsRatio: number }) =>
  health(figuresOf(processes, p), t).verdict !== 'unhealthy';

const NO_MAIN: ReadonlySet<number> = new Set();
const NO_PIDS: PidsReading = { current: null, max: null, source: 'none' };

const roots = (plan: KillPlan) => pidsOf(plan.victims.map((v) => v.root));
const members = (plan: KillPlan) => plan.victims.flatMap((v) => pidsOf(v.tree));

/** Every PID in a plan appears once, across all victims' trees. */
function expectNoDoubleKill(plan: KillPlan): void {
  const all = members(plan);
  expect(new Set(all).size).toBe(all.length);
}

/** The table after the plan's processes are gone (what the next observation would show). */
function after(procs: Proc[], plan: KillPlan): Proc[] {
  const gone = new Set(members(plan));
  return procs.filter((p) => !gone.has(p.pid));
}

describe('killable', () => {
  const protect = [/dist\/index\.js/u, /^node \/app\/scripts\//u];
  test('never PID 1, not even when it matches nothing protected', () => {
    expect(killable(proc(1, 0, 'npm exec @21st-dev/magic@latest'), [], NO_MAIN)).toBe(false);
  });
  test('never PID 0 or a negative PID (bad data)', () => {
    expect(killable(proc(0, 0, 'npm exec x'), [], NO_MAIN)).toBe(false);
    expect(killable(proc(-5, 1, 'npm exec x'), [], NO_MAIN)).toBe(false);
  });
  test('never a zombie (already dead: signals do nothing)', () => {
    expect(killable(proc(119, 1, '[sh]', { state: 'Z' }), [], NO_MAIN)).toBe(false);
  });
  test('never a protected process', () => {
    expect(killable(proc(92, 1, 'node /app/scripts/wörker.js --label café'), protect, NO_MAIN)).toBe(false);
  });
  test('stopped (T) and sleeping processes are killable', () => {
    expect(killable(proc(103, 1, 'node /app/dist/cron/cleanup.js', { state: 'T' }), protect, NO_MAIN)).toBe(true);
    expect(killable(proc(16, 1, MAGIC.npm), protect, NO_MAIN)).toBe(true);
    expect(killable(proc(16, 1, MAGIC.npm, { state: undefined }), protect, NO_MAIN)).toBe(true); // state unknown
  });
});

describe('olderFirst', () => {
  test('start ticks decide when both are known', () => {
    const a = proc(500, 1, 'a', { startTicks: 100 });
    const b = proc(20, 1, 'b', { startTicks: 900 }); // PID wrapped: lower PID, started later
    expect([b, a].sort(olderFirst).map((p) => p.pid)).toEqual([500, 20]);
  });
  test('equal start ticks (same clock tick): lower PID first', () => {
    const procs = metamcpProcs().filter((p) => p.pid === 92 || p.pid === 93).reverse();
    expect(procs.sort(olderFirst).map((p) => p.pid)).toEqual([92, 93]);
  });
  test('a missing start tick on either side: PID order', () => {
    const a = proc(30, 1, 'a', { startTicks: undefined });
    const b = proc(10, 1, 'b', { startTicks: 999999 });
    expect([a, b].sort(olderFirst).map((p) => p.pid)).toEqual([10, 30]);
  });
});

describe('planKill dedupe', () => {
  test('MetaMCP, keep 1: the older copies of each package go, each with its whole tree', () => {
    const procs = metamcpProcs();
    const plan = planKill('dedupe', procs, NO_PIDS, opts());
    expect(plan.step).toBe('dedupe');
    expect(plan.reason).toBe('duplicate command lines, keeping the newest 1 of each');
    // magic: 16, 133 go, 215 (newest) stays; ruv-swarm 27; claude-flow 46; figma 65 — oldest first
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133]);
    for (const v of plan.victims) expect(sortedPids(v.tree)).toEqual(descendantsOf(procs, v.root.pid));
    expect(plan.victims[0]?.tree.map((p) => p.command)).toEqual([MAGIC.npm, MAGIC.sh, MAGIC.node]);
    expect(members(plan)).toHaveLength(15);
    expectNoDoubleKill(plan);
  });

  test('after dedupe each command line is left exactly once: the newest', () => {
    const procs = metamcpProcs();
    const left = after(procs, planKill('dedupe', procs, NO_PIDS, opts()));
    const npm = left.filter((p) => NPM_EXEC.test(p.command));
    expect(pidsOf(npm)).toEqual([152, 177, 196, 215]);
    expect(new Set(npm.map((p) => p.command)).size).toBe(npm.length);
    expect(left).toHaveLength(33 - 15);
  });

  test('keep 2: only the third magic copy has an older duplicate to drop', () => {
    const plan = planKill('dedupe', metamcpProcs(), NO_PIDS, opts({ keep: 2 }));
    expect(roots(plan)).toEqual([16]);
    expect(plan.reason).toBe('duplicate command lines, keeping the newest 2 of each');
  });

  test('keep 3 or more: nothing to do', () => {
    expect(planKill('dedupe', metamcpProcs(), NO_PIDS, opts({ keep: 3 })).victims).toEqual([]);
  });

  test('keep 0: every member of a duplicate group goes', () => {
    const plan = planKill('dedupe', metamcpProcs(), NO_PIDS, opts({ keep: 0 }));
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133, 152, 177, 196, 215]);
  });

  test('keep 0: a command line seen once is no duplicate and stays', () => {
    const procs = [proc(1, 0, 'node dist/index.js'), ...magicTree(40, 9000)];
    expect(planKill('dedupe', procs, NO_PIDS, opts({ keep: 0 })).victims).toEqual([]);
  });

  test('"newest" is by start time, not by PID: after a PID wrap the lower PID is the newer one', () => {
    const procs = [proc(1, 0, 'node dist/index.js'), ...magicTree(32000, 1000), ...magicTree(40, 9000)];
    const plan = planKill('dedupe', procs, NO_PIDS, opts());
    expect(roots(plan)).toEqual([32000]);
    expect(members(plan)).toEqual([32000, 32001, 32002]);
  });

  test('the inits of namespaces nested inside (dind inner containers running `npx -y` as CMD) are no duplicates, at any step; their servers stay with them', () => {
    // outer app with two sessions; beside it two inner containers (unshare -fp), PID 1 there each
    const inner = (root: number, start: number) => {
      const [npm, sh, node] = magicTree(root, start, 5);
      return [{ ...npm!, nestedInit: true }, sh!, node!];
    };
    const procs = [proc(1, 0, 'node dist/index.js'), proc(5, 1, 'unshare -fp --mount-proc node /usr/local/bin/npx -y @21st-dev/magic@latest'), ...inner(10, 100), ...inner(20, 200), ...magicTree(30, 300), ...magicTree(40, 400)];
    expect(roots(planKill('dedupe', procs, NO_PIDS, opts()))).toEqual([30]);
    for (const step of ['oldest', 'all'] as const) expect(roots(planKill(step, procs, NO_PIDS, opts({ maxProcs: 1 })))).not.toContain(10);
    expect(members(planKill('all', procs, NO_PIDS, opts({ maxProcs: 1 })))).toEqual([30, 31, 32, 40, 41, 42]);
  });

  test('duplicates with identical start ticks: the higher PID counts as newer', () => {
    const procs = [proc(1, 0, 'init'), proc(10, 1, MAGIC.npm, { startTicks: 500 }), proc(11, 1, MAGIC.npm, { startTicks: 500 })];
    expect(roots(planKill('dedupe', procs, NO_PIDS, opts()))).toEqual([10]);
  });

  test('protected command lines are left alone; the other duplicates are still deduped', () => {
    const plan = planKill('dedupe', metamcpProcs(), NO_PIDS, opts({ protect: [/magic/u] }));
    expect(roots(plan)).toEqual([27, 46, 65]);
    expect(members(plan).some((pid) => [16, 38, 39, 133, 144, 145, 215, 226, 227].includes(pid))).toBe(false);
  });

  test('a zombie duplicate is ignored: it neither counts as a copy nor is killed', () => {
    const procs = [proc(1, 0, 'init'), proc(10, 1, MAGIC.npm, { state: 'Z' }), proc(20, 1, MAGIC.npm)];
    expect(planKill('dedupe', procs, NO_PIDS, opts()).victims).toEqual([]);
  });

  test('an npm caught between fork and exec (its child still has its title) is one copy, and the newest tree stays', () => {
    // Seen in a monitor run under load: npm 118 had forked 129 for `sh -c`, which had not exec'd
    // yet, so ps showed two `npm exec` lines, parent and child. Counted as two copies, the child
    // was "the newest" and went with its parent's tree: no tree was kept at all.
    const procs = [
      proc(1, 0, 'node dist/index.js'),
      ...magicTree(17, 1000),
      ...magicTree(36, 2000),
      proc(118, 1, MAGIC.npm, { startTicks: 3000 }),
      proc(129, 118, MAGIC.npm, { startTicks: 3001 }),
    ];
    const plan = planKill('dedupe', procs, NO_PIDS, opts());
    expect(roots(plan)).toEqual([17, 36]);
    expect(members(plan)).not.toContain(118);
    expect(members(plan)).not.toContain(129);
  });

  test('identical non-matching command lines (sh -c, node children) are not deduped on their own', () => {
    const plan = planKill('dedupe', metamcpProcs(), NO_PIDS, opts());
    for (const v of plan.victims) expect(v.root.command).toMatch(NPM_EXEC);
  });
});

describe('planKill oldest: stops exactly when healthy', () => {
  // Each npm exec tree in the table is 3 processes and 11 + 1 + 7 = 19 tasks.
  test('by process count: 33 processes, max-procs 18 -> five trees (33 - 5 x 3 = 18)', () => {
    const procs = metamcpProcs();
    const plan = planKill('oldest', procs, NO_PIDS, opts({ maxProcs: 18 }));
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133]);
    expect(plan.reason).toBe('oldest runaway trees until at most 18 processes');
    const left = after(procs, plan);
    expect(left).toHaveLength(18);
    expect(isHealthy(left.length, NO_PIDS, opts({ maxProcs: 18 }))).toBe(true);
  });

  test('by process count: max-procs 17 needs one more tree than 18 does', () => {
    const plan = planKill('oldest', metamcpProcs(), NO_PIDS, opts({ maxProcs: 17 }));
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133, 152]);
    expect(after(metamcpProcs(), plan)).toHaveLength(15);
  });

  test('by pids: pids.current minus the threads of each killed process, not one per process', () => {
    const procs = metamcpProcs();
    const pids: PidsReading = { current: totalTasks(procs), max: 200, source: 'cgroup-v1' }; // 199 of 200
    // healthy below 0.8 x 200 = 160 tasks: 199 - 19 = 180, - 19 = 161 (still >= 160), - 19 = 142
    const plan = planKill('oldest', procs, pids, opts({ maxProcs: 1000 }));
    expect(roots(plan)).toEqual([16, 27, 46]);
    expect(isHealthy(null, { ...pids, current: 199 - 3 * 19 }, opts())).toBe(true);
    expect(isHealthy(null, { ...pids, current: 199 - 2 * 19 }, opts())).toBe(false);
  });

  test('by pids: a process without a thread count counts as one task', () => {
    const procs = [proc(1, 0, 'init'), ...magicTree(10, 100), ...magicTree(20, 200)].map((p) => ({ ...p, threads: undefined }));
    // 7 tasks of limit 8: healthy below 6.4. One tree frees 3 tasks -> 4.
    const plan = planKill('oldest', procs, { current: 7, max: 8, source: 'cgroup-v2' }, opts({ maxProcs: 100 }));
    expect(roots(plan)).toEqual([10]);
  });

  test('both rules must hold: the stricter one decides', () => {
    const procs = metamcpProcs();
    // pids already fine (199 < 0.8 x 250 = 200); processes 33 > 24 -> 3 trees (33 - 9 = 24)
    expect(roots(planKill('oldest', procs, { current: 199, max: 250, source: 'cgroup-v1' }, opts({ maxProcs: 24 })))).toEqual([16, 27, 46]);
    // processes fine at 30 after one tree, but pids need 161 -> 142: three trees
    expect(roots(planKill('oldest', procs, { current: 199, max: 200, source: 'cgroup-v1' }, opts({ maxProcs: 30 })))).toEqual([16, 27, 46]);
  });

  test('already healthy: no victims', () => {
    expect(planKill('oldest', metamcpProcs(), NO_PIDS, opts({ maxProcs: 33 })).victims).toEqual([]);
  });

  test('not enough matching processes to get healthy: every candidate, and no more', () => {
    const plan = planKill('oldest', metamcpProcs(), NO_PIDS, opts({ maxProcs: 1 }));
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133, 152, 177, 196, 215]);
  });

  test('a protected child survives and is not counted as freed', () => {
    const procs = metamcpProcs();
    const protect = [/\.bin\/magic$/u]; // the magic node servers must live
    // magic trees free 2 processes (npm + sh), the others 3. max-procs 26: 33 -> 31 (16) -> 28 (27) -> 25 (46)
    const plan = planKill('oldest', procs, NO_PIDS, opts({ maxProcs: 26, protect }));
    expect(roots(plan)).toEqual([16, 27, 46]);
    expect(pidsOf(plan.victims[0]!.tree)).toEqual([16, 38]);
    expect(members(plan)).not.toContain(39);
  });

  test('a matching process inside an earlier victim\'s tree is skipped, not counted twice', () => {
    const procs = metamcpProcs();
    // /magic/ matches npm exec, sh -c 'magic' and the node server: 9 candidates in 3 trees
    const plan = planKill('oldest', procs, NO_PIDS, opts({ match: [/magic/u], maxProcs: 27 }));
    expect(roots(plan)).toEqual([16, 133]); // 33 -> 30 -> 27
    expectNoDoubleKill(plan);
    expect(sortedPids(plan.victims.flatMap((v) => v.tree))).toEqual([16, 38, 39, 133, 144, 145]);
  });

  test('oldest by start ticks: a tree started later but with a lower PID goes later', () => {
    const procs = [proc(1, 0, 'init'), ...magicTree(32000, 1000), ...magicTree(40, 9000)];
    expect(roots(planKill('oldest', procs, NO_PIDS, opts({ maxProcs: 4 })))).toEqual([32000]);
  });
});

describe('planKill all', () => {
  test('every matching process, each with its tree', () => {
    const procs = metamcpProcs();
    const plan = planKill('all', procs, NO_PIDS, opts());
    expect(plan.reason).toBe('every runaway tree');
    expect(roots(plan)).toEqual([16, 27, 46, 65, 133, 152, 177, 196, 215]);
    expect(members(plan)).toHaveLength(27);
    expectNoDoubleKill(plan);
  });

  test('all ignores health: even a healthy container loses every matching process', () => {
    expect(planKill('all', metamcpProcs(), NO_PIDS, opts({ maxProcs: 1000 })).victims).toHaveLength(9);
  });

  test('never PID 1, never a zombie, never a protected process, even when matching everything', () => {
    const procs = metamcpProcs();
    const protect = [/wörker/u];
    const plan = planKill('all', procs, NO_PIDS, opts({ match: [/./u, /^\[/u], protect }));
    const killed = members(plan);
    expect(killed).not.toContain(1); // node dist/index.js
    expect(killed).not.toContain(119); // the zombie [sh]
    expect(killed).not.toContain(92); // protected
    expect(sortedPids(procs).filter((pid) => ![1, 92, 119].includes(pid))).toEqual([...killed].sort((a, b) => a - b));
    expectNoDoubleKill(plan);
  });

  test('a matching process inside another victim\'s tree is not listed twice', () => {
    const plan = planKill('all', metamcpProcs(), NO_PIDS, opts({ match: [/magic/u] }));
    expect(roots(plan)).toEqual([16, 133, 215]); // 38, 39, 144, ... are inside these trees
    expect(plan.victims.map((v) => pidsOf(v.tree))).toEqual([
      [16, 38, 39],
      [133, 144, 145],
      [215, 226, 227],
    ]);
  });

  test('a nested match whose ancestor is protected is its own victim', () => {
    const procs = metamcpProcs();
    const plan = planKill('all', procs, NO_PIDS, opts({ match: [/magic/u], protect: [/^npm exec /u] }));
    // the npm processes are protected; the sh -c 'magic' under each becomes the outermost victim
    expect(roots(plan)).toEqual([38, 144, 226]);
    expect(members(plan)).toEqual([38, 39, 144, 145, 226, 227]);
  });

  test('zombie children are left out of a victim\'s tree', () => {
    const procs = [proc(1, 0, 'init'), proc(10, 1, MAGIC.npm), proc(11, 10, '[sh]', { state: 'Z' }), proc(12, 10, MAGIC.node)];
    expect(pidsOf(planKill('all', procs, NO_PIDS, opts()).victims[0]!.tree)).toEqual([10, 12]);
  });

  test('a protected grandchild is left out with its own workers (--protect ^postgres keeps postgres whole)', () => {
    const procs = [proc(1, 0, 'init'), proc(10, 1, MAGIC.npm), proc(11, 10, 'postgres -D /data'), proc(12, 11, 'postgres: checkpointer'), proc(13, 11, 'postgres: walwriter')];
    expect(pidsOf(planKill('all', procs, NO_PIDS, opts({ protect: [/^postgres -D/u] })).victims[0]!.tree)).toEqual([10]);
  });

  test('below a protected process, a matching process is judged on its own: a tree of its own', () => {
    const procs = [proc(1, 0, 'init'), proc(10, 1, MAGIC.npm), proc(11, 10, 'keeper'), proc(12, 11, 'helper'), proc(14, 11, MAGIC.npm), proc(15, 14, 'sh -c magic')];
    const plan = planKill('all', procs, NO_PIDS, opts({ protect: [/^keeper$/u] }));
    expect(plan.victims.map((v) => pidsOf(v.tree))).toEqual([[10], [14, 15]]);
  });

  test('nothing matches: no victims', () => {
    expect(planKill('all', metamcpProcs(), NO_PIDS, opts({ match: [/^does not occur$/u] })).victims).toEqual([]);
  });

  test('the input table is not modified', () => {
    const procs = metamcpProcs();
    const before = JSON.stringify(procs);
    for (const step of ['dedupe', 'oldest', 'all'] as const) planKill(step, procs, { current: 199, max: 200, source: 'api' }, opts());
    expect(JSON.stringify(procs)).toBe(before);
  });
});

describe('stepsToRun', () => {
  test('the full ladder, in order', () => {
    expect(stepsToRun([...STEPS], false)).toEqual(['dedupe', 'oldest', 'all', 'restart']);
  });

  test('--emergency starts at "all"', () => {
    expect(stepsToRun([...STEPS], true)).toEqual(['all', 'restart']);
  });

  test('ladder order wins over the order given in --steps', () => {
    expect(stepsToRun(['restart', 'all', 'dedupe'], false)).toEqual(['dedupe', 'all', 'restart']);
  });

  test('only allowed steps run', () => {
    expect(stepsToRun(['oldest'], false)).toEqual(['oldest']);
    expect(stepsToRun(['dedupe', 'restart'], true)).toEqual(['restart']);
  });

  test('--emergency with only the early steps allowed: nothing to run', () => {
    expect(stepsToRun(['dedupe', 'oldest'], true)).toEqual([]);
  });
});
