// The ladder decision as a table: one row per situation (earlyoom's and moby's way of testing a
// pure policy). Tables come from the real MetaMCP capture (helpers/procs.ts) or small shapes of it.
import { describe, expect, test } from 'bun:test';
import { resolveSettings } from '../../src/cli/settings.ts';
import { evidenceOf, hasEvidence, nextStep, type NextStep, type NextStepInput } from '../../src/decide/next-step.ts';
import { globalPolicy, type ContainerPolicy } from '../../src/decide/policy.ts';
import type { PidsReading, Proc } from '../../src/types.ts';
import { MAGIC, magicTree, metamcpProcs, proc, totalTasks } from './helpers/procs.ts';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;
const policy = (over: Partial<ContainerPolicy> = {}): ContainerPolicy => ({ ...globalPolicy(resolveSettings('cleanup', {}, {}, {})), ...over });
const pidsOf = (procs: Proc[], max: number | null = null): PidsReading => ({ current: totalTasks(procs), max, source: 'cgroup-v1' });

function input(procs: Proc[] | null, over: Partial<NextStepInput> = {}): NextStepInput {
  const pol = over.policy ?? policy();
  const pids = over.pids ?? (procs ? pidsOf(procs) : { current: null, max: null, source: 'none' });
  return {
    procs,
    pids,
    policy: pol,
    emergency: false,
    evidence: evidenceOf(procs, pids, pol),
    progress: { passed: [], restartAttempted: false },
    restartHistory: [],
    nowMs: NOW,
    ...over,
  };
}

const kind = (n: NextStep) => (n.kind === 'kill' ? `kill:${n.plan.step}` : n.kind === 'stop' ? `stop:${n.verdict}${n.event ? `:${n.event}` : ''}` : 'restart');

/** 21 sleeps and PID 1: busy, nothing runaway. */
const busyPlain = () => [proc(1, 0, 'node dist/index.js'), ...Array.from({ length: 20 }, (_, i) => proc(10 + i, 1, 'sleep 1000'))];
/** PID 1, 6 live trees of the same package (18 processes): runaway duplicates. */
const storm = () => [proc(1, 0, 'node dist/index.js'), ...Array.from({ length: 6 }, (_, i) => magicTree(10 + 3 * i, 1000 + 10 * i)).flat()];
/** A PID 1 that never reaps: 4 processes and 20 zombies. */
const zombieFarm = () => [proc(1, 0, 'node dist/index.js'), proc(2, 1, 'worker'), ...Array.from({ length: 20 }, (_, i) => proc(100 + i, 1, '[sh]', { state: 'Z' }))];
/** Orphaned servers only: their npm exec wrappers died, node re-parented to PID 1. */
const orphans = () => [proc(1, 0, 'node dist/index.js'), ...Array.from({ length: 16 }, (_, i) => proc(10 + i, 1, MAGIC.node, { startTicks: 500 + i }))];

describe('nextStep: one row per situation', () => {
  const rows: [string, () => NextStepInput, string][] = [
    ['healthy: stop, nothing to do', () => input([proc(1, 0, 'app'), ...magicTree(10, 1000)]), 'stop:healthy'],
    ['process count unknown, no pressure: stop, unknown (no evidence of trouble)', () => input(null, { pids: { current: 40, max: 100, source: 'api' } }), 'stop:unknown'],
    ['a storm of duplicates: dedupe first', () => input(storm()), 'kill:dedupe'],
    ['dedupe done and still over: oldest', () => input(storm(), { progress: { passed: ['dedupe'], restartAttempted: false } }), 'kill:oldest'],
    ['--emergency: straight to all', () => input(storm(), { emergency: true }), 'kill:all'],
    ['--steps dedupe alone, dedupe done: stop unhealthy, no step left', () => input(storm(), { policy: policy({ steps: ['dedupe'] }), progress: { passed: ['dedupe'], restartAttempted: false } }), 'stop:unhealthy'],
    ['orphans only: dedupe groups them like wrappers', () => input(orphans()), 'kill:dedupe'],
    ['busy plain container (21 sleeps): no kill step applies, restart skipped for lack of evidence', () => input(busyPlain()), 'stop:unhealthy:restart-skipped'],
    ['busy plain container labelled restart=always: restart', () => input(busyPlain(), { policy: policy({ restart: 'always' }) }), 'restart'],
    ['storm after the kill steps: restart (runaway trees seen at the start)', () => input(storm(), { progress: { passed: ['dedupe', 'oldest', 'all'], restartAttempted: false } }), 'restart'],
    ['storm, restart rule never: restart skipped', () => input(storm(), { policy: policy({ restart: 'never' }), progress: { passed: ['dedupe', 'oldest', 'all'], restartAttempted: false } }), 'stop:unhealthy:restart-skipped'],
    ['storm, 3 restarts in the last hour (limit 3/1h): suppressed', () => input(storm(), { progress: { passed: ['dedupe', 'oldest', 'all'], restartAttempted: false }, restartHistory: [NOW - 50 * 60_000, NOW - 20 * 60_000, NOW - 60_000] }), 'stop:unhealthy:restart-suppressed'],
    ['storm, 3 restarts but the oldest left the window: restart', () => input(storm(), { progress: { passed: ['dedupe', 'oldest', 'all'], restartAttempted: false }, restartHistory: [NOW - HOUR - 1, NOW - 20 * 60_000, NOW - 60_000] }), 'restart'],
    ['still unhealthy after this run restarted it once: stop', () => input(storm(), { progress: { passed: ['dedupe', 'oldest', 'all', 'restart'], restartAttempted: true } }), 'stop:unhealthy'],
    ['zombies alone put it over (PID 1 never reaps): restart with evidence', () => input(zombieFarm()), 'restart'],
    ['no process table, only pids pressure: restart skipped (no evidence)', () => input(null, { pids: { current: 95, max: 100, source: 'api' } }), 'stop:unhealthy:restart-skipped'],
    ['the whole MetaMCP capture, 33 processes: dedupe', () => input(metamcpProcs()), 'kill:dedupe'],
  ];
  for (const [name, make, expected] of rows) test(name, () => expect(kind(nextStep(make()))).toBe(expected));
});

describe('what a decision carries', () => {
  test('steps with nothing to do are passed over and reported, so the caller never asks about them again', () => {
    const n = nextStep(input(busyPlain()));
    expect(n.passed).toEqual(['dedupe', 'oldest', 'all', 'restart']);
  });

  test('restart-skipped says what was seen and the way out', () => {
    const n = nextStep(input(busyPlain()));
    if (n.kind !== 'stop') throw new Error('expected stop');
    expect(n.reason).toContain('21 processes > max-procs 15');
    expect(n.reason).toContain('none runaway');
    expect(n.reason).toContain('raise pidwarden.max-procs on this container or widen --match');
  });

  test('pids pressure without runaway: the way out names the pids ratio', () => {
    const procs = [proc(1, 0, 'app', { threads: 95 })];
    const n = nextStep(input(procs, { pids: { current: 95, max: 100, source: 'cgroup-v2' } }));
    expect(n.kind === 'stop' && n.reason).toContain('raise pidwarden.pids-ratio');
  });

  test('restart-suppressed carries when a restart is allowed again', () => {
    const history = [NOW - 50 * 60_000, NOW - 20 * 60_000, NOW - 60_000];
    const n = nextStep(input(storm(), { progress: { passed: ['dedupe', 'oldest', 'all'], restartAttempted: false }, restartHistory: history }));
    expect(n.kind === 'stop' && n.retryAtMs).toBe(NOW - 50 * 60_000 + HOUR);
  });

  test('a kill decision carries the plan of that step only', () => {
    const n = nextStep(input(storm()));
    if (n.kind !== 'kill') throw new Error('expected kill');
    expect(n.plan.victims.map((v) => v.root.pid)).toEqual([10, 13, 16, 19, 22]); // all but the newest tree (25)
  });
});

describe('evidence', () => {
  test('a storm: runaway trees', () => {
    expect(evidenceOf(storm(), pidsOf(storm()), policy())).toMatchObject({ runawayTrees: 6, orphans: 0, zombies: 0, zombiesAlone: false });
  });
  test('orphans count as runaway trees', () => {
    const e = evidenceOf(orphans(), pidsOf(orphans()), policy());
    expect([e.runawayTrees, e.orphans, hasEvidence(e)]).toEqual([16, 16, true]);
  });
  test('zombies alone: unhealthy with them, healthy without', () => {
    const e = evidenceOf(zombieFarm(), pidsOf(zombieFarm()), policy());
    expect([e.zombies, e.zombiesAlone, hasEvidence(e)]).toEqual([20, true, true]);
  });
  test('a few zombies in a container busy for other reasons are no evidence', () => {
    const procs = [...busyPlain(), proc(200, 1, '[sh]', { state: 'Z' })];
    const e = evidenceOf(procs, pidsOf(procs), policy());
    expect([e.zombiesAlone, hasEvidence(e)]).toEqual([false, false]);
  });
  test('no table, no evidence', () => {
    expect(hasEvidence(evidenceOf(null, { current: 99, max: 100, source: 'api' }, policy()))).toBe(false);
  });
});
