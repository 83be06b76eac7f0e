import { describe, expect, test } from 'bun:test';
import { assess, duplicateGroups, isZombie, matchesAny } from '../../src/decide/classify.ts';
import { figuresOf, health, pidsPressure as pressure } from '../../src/decide/health.ts';
import { runawayTrees } from '../../src/decide/runaway.ts';
import type { PidsReading, Proc } from '../../src/types.ts';
import { MAGIC, metamcpProcs, pidsOf, proc, totalTasks } from './helpers/procs.ts';

const NPM_EXEC = [/^npm exec /u];
const thresholds = { maxProcs: 15, pidsRatio: 0.8, match: NPM_EXEC, npxOrphans: true, protect: [] };
/** The runaway tree roots under a match list (npx-cache orphans off, as the landed rule had it). */
const matchingProcs = (procs: Proc[], match: RegExp[]) => runawayTrees(procs, { match, npxOrphans: false, protect: [] }).map((t) => t.root);
const pidsPressure = (p: PidsReading, ratio: number) => pressure(p.current, p.max, ratio);
const isHealthy = (processes: number | null, p: PidsReading, t: { maxProcs: number; pidsRatio: number }) =>
  health(figuresOf(processes, p), t).verdict !== 'unhealthy';
const pidsOk: PidsReading = { current: 10, max: 100, source: 'cgroup-v1' };

describe('the MetaMCP table itself', () => {
  test('33 processes, 199 tasks (threads), one zombie', () => {
    const procs = metamcpProcs();
    expect(procs).toHaveLength(33);
    expect(totalTasks(procs)).toBe(199);
    expect(procs.filter(isZombie).map((p) => p.command)).toEqual(['[sh]']);
  });
});

describe('matchesAny / matchingProcs', () => {
  test('any one pattern is enough', () => {
    expect(matchesAny('npx -y figma-mcp', [/^npm exec /u, /^npx /u])).toBe(true);
    expect(matchesAny('node dist/index.js', [/^npm exec /u, /^npx /u])).toBe(false);
    expect(matchesAny('anything', [])).toBe(false);
  });

  test('the default ^npm exec matches exactly the nine retitled npm processes', () => {
    expect(pidsOf(matchingProcs(metamcpProcs(), NPM_EXEC))).toEqual([16, 27, 46, 65, 133, 152, 177, 196, 215]);
  });

  test('a zombie never matches, even when its command line does', () => {
    const procs = [proc(1, 0, 'node dist/index.js'), proc(5, 1, 'npm exec x', { state: 'Z' }), proc(6, 1, 'npm exec x')];
    expect(pidsOf(matchingProcs(procs, NPM_EXEC))).toEqual([6]);
    expect(pidsOf(matchingProcs(metamcpProcs(), [/sh/u]))).not.toContain(119);
  });

  test('UTF-8 command lines match like any other', () => {
    expect(pidsOf(matchingProcs(metamcpProcs(), [/東京/u]))).toEqual([92]);
    expect(pidsOf(matchingProcs(metamcpProcs(), [/café {2}☕/u]))).toEqual([92]);
  });
});

describe('duplicateGroups', () => {
  test('MetaMCP: magic three times, the other three packages twice; largest first, then by command', () => {
    const groups = duplicateGroups(matchingProcs(metamcpProcs(), NPM_EXEC));
    expect(groups).toEqual([
      { command: MAGIC.npm, count: 3, pids: [16, 133, 215] },
      { command: 'npm exec claude-flow@alpha mcp start', count: 2, pids: [46, 177] },
      { command: 'npm exec figma-mcp', count: 2, pids: [65, 196] },
      { command: 'npm exec ruv-swarm mcp start', count: 2, pids: [27, 152] },
    ]);
  });

  test('a command line seen once is not a duplicate', () => {
    expect(duplicateGroups([proc(5, 1, 'npm exec a'), proc(6, 1, 'npm exec b')])).toEqual([]);
  });

  test('PIDs are listed in ascending order whatever the input order', () => {
    const groups = duplicateGroups([proc(30, 1, 'npm exec a'), proc(4, 1, 'npm exec a'), proc(17, 1, 'npm exec a')]);
    expect(groups[0]?.pids).toEqual([4, 17, 30]);
  });

  test('command lines differing only by whitespace are different (exact comparison)', () => {
    expect(duplicateGroups([proc(5, 1, 'npm exec a'), proc(6, 1, 'npm exec  a')])).toEqual([]);
  });
});

describe('pidsPressure', () => {
  test('at or above ratio x max', () => {
    expect(pidsPressure({ current: 20, max: 25, source: 'cgroup-v1' }, 0.8)).toBe(true); // 20 >= 20
    expect(pidsPressure({ current: 19, max: 25, source: 'cgroup-v1' }, 0.8)).toBe(false);
    expect(pidsPressure({ current: 25, max: 25, source: 'cgroup-v2' }, 1)).toBe(true);
    expect(pidsPressure({ current: 24, max: 25, source: 'cgroup-v2' }, 1)).toBe(false);
  });

  test('exactly at the boundary despite floating point (0.55 x 100 is 55.00000000000001 in binary)', () => {
    expect(pidsPressure({ current: 55, max: 100, source: 'cgroup-v1' }, 0.55)).toBe(true);
    expect(pidsPressure({ current: 14, max: 25, source: 'cgroup-v1' }, 0.56)).toBe(true);
    expect(pidsPressure({ current: 54, max: 100, source: 'cgroup-v1' }, 0.55)).toBe(false);
  });

  test('unknown current or no limit never counts as pressure', () => {
    expect(pidsPressure({ current: null, max: 25, source: 'none' }, 0.8)).toBe(false);
    expect(pidsPressure({ current: 10_000, max: null, source: 'cgroup-v1' }, 0.8)).toBe(false);
  });

  test('pids.max 0 (no new task allowed at all) is pressure', () => {
    expect(pidsPressure({ current: 3, max: 0, source: 'cgroup-v1' }, 0.8)).toBe(true);
  });
});

describe('isHealthy', () => {
  const t = { maxProcs: 15, pidsRatio: 0.8 };
  test('exactly max-procs is healthy, one more is not', () => {
    expect(isHealthy(15, pidsOk, t)).toBe(true);
    expect(isHealthy(16, pidsOk, t)).toBe(false);
  });

  test('unknown process count: only pids decide', () => {
    expect(isHealthy(null, pidsOk, t)).toBe(true);
    expect(isHealthy(null, { current: 80, max: 100, source: 'cgroup-v1' }, t)).toBe(false);
  });

  test('few processes but many threads: pids pressure alone makes it unhealthy', () => {
    expect(isHealthy(3, { current: 90, max: 100, source: 'cgroup-v2' }, t)).toBe(false);
  });
});

describe('assess', () => {
  test('MetaMCP flooded: critical for the process count; duplicates and the zombie as further reasons', () => {
    const a = assess(metamcpProcs(), { current: 199, max: 250, source: 'cgroup-v1' }, thresholds);
    expect(a.status).toBe('critical');
    expect(a.total).toBe(33);
    expect(a.zombies).toBe(1);
    // nine npm exec trees, and PID 93: claude-flow run from the npx cache, parent PID 1, no wrapper
    expect(pidsOf(a.trees.map((t) => t.root))).toEqual([16, 27, 46, 65, 93, 133, 152, 177, 196, 215]);
    expect(a.trees.filter((t) => t.orphan).map((t) => t.root.pid)).toEqual([93]);
    expect(a.duplicates).toHaveLength(4);
    expect(a.reasons).toEqual([
      '33 processes > max-procs 15',
      `3 x duplicate: ${MAGIC.npm}`,
      '2 x duplicate: npm exec claude-flow@alpha mcp start',
      '2 x duplicate: npm exec figma-mcp',
      '2 x duplicate: npm exec ruv-swarm mcp start',
      '1 orphaned MCP server (npm exec wrapper gone)',
      '1 zombie',
    ]);
  });

  test('pids pressure is a critical reason of its own', () => {
    const a = assess([proc(1, 0, 'node dist/index.js')], { current: 200, max: 250, source: 'cgroup-v1' }, thresholds);
    expect(a.status).toBe('critical');
    expect(a.reasons).toEqual(['pids.current 200 >= 0.8 x pids.max 250']);
  });

  test('both critical reasons at once, critical reasons before warnings', () => {
    const a = assess(metamcpProcs(), { current: 199, max: 199, source: 'cgroup-v2' }, thresholds);
    expect(a.reasons.slice(0, 2)).toEqual(['33 processes > max-procs 15', 'pids.current 199 >= 0.8 x pids.max 199']);
  });

  test('only duplicates: warn, not critical', () => {
    const procs = [proc(1, 0, 'node dist/index.js'), proc(5, 1, MAGIC.npm), proc(9, 1, MAGIC.npm)];
    const a = assess(procs, pidsOk, thresholds);
    expect(a.status).toBe('warn');
    expect(a.reasons).toEqual([`2 x duplicate: ${MAGIC.npm}`]);
  });

  test('zombies: singular and plural', () => {
    const one = assess([proc(1, 0, 'init'), proc(2, 1, '[sh]', { state: 'Z' })], pidsOk, thresholds);
    expect(one.reasons).toEqual(['1 zombie']);
    const two = assess([proc(1, 0, 'init'), proc(2, 1, '[sh]', { state: 'Z' }), proc(3, 1, '[sh]', { state: 'Z' })], pidsOk, thresholds);
    expect(two.reasons).toEqual(['2 zombies']);
    expect(two.status).toBe('warn');
  });

  test('a clean container is ok with no reasons', () => {
    const a = assess([proc(1, 0, 'node dist/index.js'), proc(7, 1, MAGIC.npm)], pidsOk, thresholds);
    expect(a).toMatchObject({ status: 'ok', reasons: [], total: 2, zombies: 0, duplicates: [] });
  });

  test('no pids limit is a warning when pids were read, not when they are unknown', () => {
    const procs = [proc(1, 0, 'node dist/index.js')];
    expect(assess(procs, { current: 1, max: null, source: 'cgroup-v1' }, thresholds).reasons).toEqual(['no pids limit']);
    expect(assess(procs, { current: 1, max: null, source: 'api' }, thresholds).status).toBe('warn');
    expect(assess(procs, { current: null, max: null, source: 'none' }, thresholds)).toMatchObject({ status: 'ok', reasons: [] });
  });

  test('processes unknown (null table): a warning, counts are zero, never critical for the count', () => {
    const a = assess(null, pidsOk, thresholds);
    expect(a).toMatchObject({ status: 'warn', reasons: ['processes unknown'], total: 0, zombies: 0, trees: [], duplicates: [] });
  });

  test('processes unknown but pids pressure: still critical', () => {
    const a = assess(null, { current: 25, max: 25, source: 'cgroup-v1' }, thresholds);
    expect(a.status).toBe('critical');
    expect(a.reasons).toEqual(['pids.current 25 >= 0.8 x pids.max 25', 'processes unknown']);
  });

  test('exactly max-procs processes is not critical', () => {
    const procs = Array.from({ length: 15 }, (_, i) => proc(i + 1, i === 0 ? 0 : 1, `worker ${i}`));
    expect(assess(procs, pidsOk, thresholds).status).toBe('ok');
    procs.push(proc(99, 1, 'worker 99'));
    expect(assess(procs, pidsOk, thresholds).reasons).toEqual(['16 processes > max-procs 15']);
  });
});
