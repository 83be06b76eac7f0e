import { describe, expect, test } from 'bun:test';
import { isRunaway, runawayTrees, type RunawayRules } from '../../src/decide/runaway.ts';
import { MAGIC, magicTree, metamcpProcs, pidsOf, proc } from './helpers/procs.ts';

const rules = (over: Partial<RunawayRules> = {}): RunawayRules => ({ match: [/^npm exec /u], npxOrphans: true, protect: [], ...over });
const rootsOf = (procs: Parameters<typeof runawayTrees>[0], r = rules()) => runawayTrees(procs, r).map((t) => t.root.pid);

describe('runawayTrees on the real MetaMCP table (BusyBox 1.36.1 capture)', () => {
  test('nine npm exec trees, each counted once although its node server also runs from the npx cache', () => {
    const trees = runawayTrees(metamcpProcs(), rules({ npxOrphans: false }));
    expect(trees.map((t) => t.root.pid)).toEqual([16, 27, 46, 65, 133, 152, 177, 196, 215]);
    expect(trees.every((t) => !t.orphan)).toBe(true);
  });

  test('with the npx cache rule: the same nine plus PID 93, a claude-flow server under PID 1 with no wrapper', () => {
    const trees = runawayTrees(metamcpProcs(), rules());
    expect(trees.map((t) => t.root.pid)).toEqual([16, 27, 46, 65, 93, 133, 152, 177, 196, 215]);
    expect(trees.filter((t) => t.orphan).map((t) => t.root.pid)).toEqual([93]);
  });
});

describe('orphaned servers: the npm exec wrapper died, sh -c and node were re-parented to PID 1', () => {
  // PID 1 the app; tree 10 intact; tree 20's npm killed alone: its sh (21) and node (22) remain
  const table = () => [
    proc(1, 0, 'node dist/index.js'),
    ...magicTree(10, 1000),
    proc(21, 1, MAGIC.sh),
    proc(22, 21, MAGIC.node),
    proc(31, 1, MAGIC.node), // a server whose sh -c exec'd it (BusyBox sh: no sh layer)
  ];

  test('each orphaned node is a tree of its own, marked as an orphan', () => {
    const trees = runawayTrees(table(), rules());
    expect(trees.map((t) => [t.root.pid, t.orphan])).toEqual([[10, false], [22, true], [31, true]]);
  });

  test('--npx-orphans false: only the wrapper pattern counts', () => {
    expect(rootsOf(table(), rules({ npxOrphans: false }))).toEqual([10]);
  });

  test('the orphan shares its command line with the servers inside live trees; only roots are compared', () => {
    const trees = runawayTrees(table(), rules());
    expect(trees.map((t) => t.root.command)).toEqual([MAGIC.npm, MAGIC.node, MAGIC.node]);
  });
});

describe('who holds whom', () => {
  test('a PID 1 that itself runs npm exec (CMD npx -y some-mcp): its npx server is its own, not an orphan', () => {
    const procs = [proc(1, 0, MAGIC.npm), proc(2, 1, MAGIC.sh), proc(3, 2, MAGIC.node), proc(4, 1, MAGIC.node)];
    expect(rootsOf(procs)).toEqual([]);
  });

  test('... but npm exec trees it spawns are still runaway', () => {
    const procs = [proc(1, 0, MAGIC.npm), proc(2, 1, MAGIC.sh), proc(3, 2, MAGIC.node), ...magicTree(10, 1000)];
    expect(rootsOf(procs)).toEqual([10]);
  });

  test('PID 1 itself is never a runaway', () => {
    expect(isRunaway(proc(1, 0, MAGIC.npm), rules())).toBe(false);
    expect(isRunaway(proc(2, 1, MAGIC.npm), rules())).toBe(true);
  });

  test('zombies are never runaway (already dead), and do not hold anything', () => {
    expect(isRunaway(proc(5, 1, MAGIC.npm, { state: 'Z' }), rules())).toBe(false);
    expect(rootsOf([proc(1, 0, 'app'), proc(5, 1, MAGIC.npm, { state: 'Z' }), proc(6, 1, MAGIC.node)])).toEqual([6]);
  });

  test('a protected wrapper keeps its own npx-cache server (killing it would end the wrapper too)', () => {
    const procs = [proc(1, 0, 'app'), ...magicTree(10, 1000)];
    expect(rootsOf(procs, rules({ protect: [/magic@latest/u] }))).toEqual([]);
  });

  test('a protected wrapper holds nothing: a --match process below it is judged on its own', () => {
    const procs = [proc(1, 0, 'app'), ...magicTree(10, 1000), proc(20, 12, 'npm exec figma-mcp'), proc(21, 20, 'sh -c figma-mcp')];
    expect(rootsOf(procs, rules({ protect: [/magic@latest/u] }))).toEqual([20]);
  });

  test('an init shim is no wrapper, even when its argv names an npx-cache CMD: orphans re-parented to it are runaway', () => {
    const procs = [
      proc(1, 0, '/sbin/docker-init -- node /root/.npm/_npx/aaaa/node_modules/.bin/hub'),
      proc(7, 1, 'node /root/.npm/_npx/aaaa/node_modules/.bin/hub'),
      proc(20, 1, MAGIC.node, { startTicks: 90_000 }),
      proc(21, 1, MAGIC.node, { startTicks: 91_000 }),
    ];
    expect(rootsOf(procs)).toEqual([20, 21]);
  });

  test('a runaway deep below a non-runaway process is a root (no runaway ancestor)', () => {
    const procs = [proc(1, 0, 'app'), proc(5, 1, 'supervisor'), proc(6, 5, 'bash'), ...magicTree(10, 1000, 6)];
    expect(rootsOf(procs)).toEqual([10]);
  });

  test('a parent cycle in bad data ends the walk instead of looping', () => {
    const procs = [proc(1, 0, 'app'), proc(5, 6, 'a'), proc(6, 5, 'b'), proc(7, 5, MAGIC.npm)];
    expect(rootsOf(procs)).toEqual([7]);
  });

  test('linear in the table: 5,000 trees of 3 take well under a second', () => {
    const procs = [proc(1, 0, 'app')];
    for (let i = 0; i < 5000; i++) procs.push(...magicTree(10 + i * 3, 1000 + i));
    const t0 = performance.now();
    expect(runawayTrees(procs, rules())).toHaveLength(5000);
    expect(pidsOf(procs)).toHaveLength(15_001);
    expect(performance.now() - t0).toBeLessThan(2000); // quadratic would be ~10^8 steps
  });
});

describe('a label pattern narrowed by --match (matchAlso: src/decide/policy.ts)', () => {
  const table = () => [proc(1, 0, 'node dist/index.js'), ...magicTree(10, 1000), proc(40, 1, 'python -m worker'), proc(41, 1, 'python -m worker')];

  test('the label alone makes the python workers runaway; within --match ^npm exec only the npm tree is', () => {
    const label = [/^(npm exec|python) /u];
    expect(rootsOf(table(), rules({ match: label, npxOrphans: false }))).toEqual([10, 40, 41]);
    expect(rootsOf(table(), rules({ match: label, matchAlso: [/^npm exec /u], npxOrphans: false }))).toEqual([10]);
    expect(isRunaway(proc(40, 1, 'python -m worker'), rules({ match: label, matchAlso: [/^npm exec /u] }))).toBe(false);
  });
});
