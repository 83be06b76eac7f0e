// The ladder decision as a table: one row per situation (earlyoom's and moby's way of testing a
// pure policy). Tables come from the real MetaMCP capture (helpers/procs.ts) or small shapes of it.
import { describe, expect, test } from 'bun:test';
import { resolveSettings } from '../../src/cli/settings.ts';
import { evidenceOf, hasEvidence } from '../../src/decide/evidence.ts';
import { nextStep, type NextStep, type NextStepInput } from '../../src/decide/next-step.ts';
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
    ['no process table, only pids pressure: stop, unknown (a kill step cannot choose victims; not passed on to a restart)', () => input(null, { pids: { current: 95, max: 100, source: 'api' } }), 'stop:unknown'],
    ['dedupe done, then the table cannot be read: stop, unknown, never a restart "after" oldest and all', () => input(null, { pids: { current: 90, max: 100, source: 'api' }, evidence: evidenceOf(storm(), { current: 95, max: 100, source: 'api' }, policy()), progress: { passed: ['dedupe'], restartAttempted: false } }), 'stop:unknown'],
    ['--steps restart alone, table unreadable: restart skipped', () => input(null, { pids: { current: 95, max: 100, source: 'api' }, policy: policy({ steps: ['restart'] }) }), 'stop:unhealthy:restart-skipped'],
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
    expect(evidenceOf(storm(), pidsOf(storm()), policy())).toMatchObject({ runawayTrees: 6, orphans: 0, zombies: 0, heldZombies: [], explained: true });
  });
  test('orphans count as runaway trees', () => {
    const e = evidenceOf(orphans(), pidsOf(orphans()), policy());
    expect([e.runawayTrees, e.orphans, hasEvidence(e)]).toEqual([16, 16, true]);
  });
  test('zombies alone: unhealthy with them, healthy without', () => {
    const e = evidenceOf(zombieFarm(), pidsOf(zombieFarm()), policy());
    expect([e.zombies, e.heldZombies.length, e.explained, hasEvidence(e)]).toEqual([20, 20, true, true]);
  });
  test('a few zombies in a container busy for other reasons are no evidence', () => {
    const procs = [...busyPlain(), proc(200, 1, '[sh]', { state: 'Z' })];
    const e = evidenceOf(procs, pidsOf(procs), policy());
    expect([e.heldZombies.length, e.explained, hasEvidence(e)]).toEqual([1, false, false]);
  });
  test('no table, no evidence', () => {
    expect(hasEvidence(evidenceOf(null, { current: 99, max: 100, source: 'api' }, policy()))).toBe(false);
  });
});

// What real hosts run beside the runaway container: a restart needs what it clears to be why the
// container is over (src/decide/evidence.ts), and the container's main process is never a victim.
describe('restart only with evidence, on busy containers', () => {
  const afterKillSteps = { passed: ['dedupe', 'oldest', 'all'] as NextStepInput['progress']['passed'], restartAttempted: false };
  /** postgres as PID 1 with 128 workers, and one npx-run helper: 130 processes over max-procs 120. */
  const postgres = (withHelper: boolean) => [
    proc(1, 0, 'postgres -D /var/lib/postgresql/data', { startTicks: 100 }),
    ...Array.from({ length: 128 }, (_, i) => proc(10 + i, 1, 'postgres: client backend', { startTicks: 200 + i })),
    ...(withHelper ? [proc(500, 1, MAGIC.node, { startTicks: 900 })] : []),
  ];

  test('postgres with one npx helper: oldest kills the helper, then no restart (the 129 workers are why it is over)', () => {
    const pol = policy({ maxProcs: 120 });
    const start = postgres(true);
    expect(kind(nextStep(input(start, { policy: pol })))).toBe('kill:oldest');
    const evidence = evidenceOf(start, pidsOf(start), pol);
    expect([evidence.runawayTrees, evidence.explained, hasEvidence(evidence)]).toEqual([1, false, false]);
    const n = nextStep(input(postgres(false), { policy: pol, evidence, progress: afterKillSteps }));
    expect(kind(n)).toBe('stop:unhealthy:restart-skipped');
    expect(n.kind === 'stop' && n.reason).toContain('were not what put it over');
  });

  test('nginx: a worker\'s child that just exited (a zombie its worker reaps) is no ground for a restart', () => {
    const procs = [
      proc(1, 0, 'nginx: master process nginx -g daemon off;'),
      ...Array.from({ length: 18 }, (_, i) => proc(20 + i, 1, 'nginx: worker process')),
      proc(90, 20, '[sh]', { state: 'Z' }),
    ];
    const e = evidenceOf(procs, pidsOf(procs), policy({ maxProcs: 19 }));
    expect([e.zombies, e.heldZombies.length, hasEvidence(e)]).toEqual([1, 0, false]);
    expect(kind(nextStep(input(procs, { policy: policy({ maxProcs: 19 }) })))).toBe('stop:unhealthy:restart-skipped');
  });

  test('zombies of the main process: a restart only when the same ones are there at the start and now', () => {
    const farm = zombieFarm().map((p) => ({ ...p, startTicks: 1000 + p.pid }));
    const evidence = evidenceOf(farm, pidsOf(farm), policy());
    expect(kind(nextStep(input(farm, { evidence })))).toBe('restart');
    // reaped meanwhile, and others (newer) in their place: not the same zombies
    const other = farm.map((p) => (p.state === 'Z' ? { ...p, pid: p.pid + 1000, startTicks: (p.startTicks ?? 0) + 500 } : p));
    const n = nextStep(input(other, { evidence }));
    expect(kind(n)).toBe('stop:unhealthy:restart-skipped');
  });

  test('after the kill steps, zombies of the main process count when they are what the kill steps left, not others', () => {
    const pol = policy({ maxProcs: 15 });
    const app = () => [proc(1, 0, 'node server.js'), ...Array.from({ length: 11 }, (_, i) => proc(30 + i, 1, 'node worker.js'))];
    const tree = magicTree(100, 5000);
    const start = [...app(), ...tree, ...[200, 201, 202].map((pid) => proc(pid, 1, '[sh]', { state: 'Z' }))];
    const evidence = evidenceOf(start, pidsOf(start), pol);
    expect(hasEvidence(evidence)).toBe(true);
    // after the kill steps: 4 zombies nobody killed, the start's reaped meanwhile
    const others = [...app(), ...[300, 301, 302, 303].map((pid) => proc(pid, 1, '[sh]', { state: 'Z' }))];
    const killed = tree.map((p) => `${p.pid}@${p.startTicks}`);
    expect(kind(nextStep(input(others, { policy: pol, evidence, progress: { ...afterKillSteps, killed } })))).toBe('stop:unhealthy:restart-skipped');
    // the killed tree's own processes as zombies of PID 1 (it reaps none): what a restart clears
    const left = [...app(), ...tree.map((p) => ({ ...p, ppid: 1, state: 'Z' })), proc(210, 1, '[sh]', { state: 'Z' })];
    expect(kind(nextStep(input(left, { policy: pol, evidence, progress: { ...afterKillSteps, killed } })))).toBe('restart');
  });

  test('a storm that comes back after the kill steps: restart (runaway trees now, and they are why it is over)', () => {
    expect(kind(nextStep(input(storm(), { progress: afterKillSteps })))).toBe('restart');
  });

  // A main process with 450 threads under pids.max 512 (0.8 x 512 = 409.6) and 6 npm trees: over
  // both thresholds. Without the trees it is 1 process, under max-procs, but its own threads keep
  // pids.current over: a restart brings them back and the container is as unhealthy as before.
  const jvm = () => proc(1, 0, 'java -jar /app/server.jar', { threads: 450 });
  const jvmStorm = () => [jvm(), ...Array.from({ length: 6 }, (_, i) => magicTree(10 + 3 * i, 1000 + 10 * i)).flat()];
  const under512 = (procs: Proc[]) => pidsOf(procs, 512);

  test('over both thresholds, the trees explain only max-procs (the main process\'s threads keep pids.current over): no restart', () => {
    const start = jvmStorm();
    const evidence = evidenceOf(start, under512(start), policy());
    expect([evidence.runawayTrees, evidence.explained, hasEvidence(evidence)]).toEqual([6, false, false]);
    // the trees came back after the kill steps: still not what keeps it over
    const n = nextStep(input(jvmStorm(), { pids: under512(jvmStorm()), evidence, progress: afterKillSteps }));
    expect(kind(n)).toBe('stop:unhealthy:restart-skipped');
  });

  test('pidwarden.steps=dedupe,restart, 6 different packages and the same main process: dedupe has nothing, no restart', () => {
    const pol = policy({ steps: ['dedupe', 'restart'] });
    const procs = [jvm(), ...['a', 'b', 'c', 'd', 'e', 'f'].flatMap((pkg, i) => [
      proc(10 + 3 * i, 1, `npm exec ${pkg}`, { threads: 11 }),
      proc(11 + 3 * i, 10 + 3 * i, `sh -c ${pkg}`),
      proc(12 + 3 * i, 11 + 3 * i, `node /root/.npm/_npx/${i}/node_modules/.bin/${pkg}`, { threads: 7 }),
    ])];
    expect(kind(nextStep(input(procs, { policy: pol, pids: under512(procs) })))).toBe('stop:unhealthy:restart-skipped');
  });

  test('over both thresholds, the trees explain both: restart', () => {
    const light = () => [proc(1, 0, 'node dist/index.js', { threads: 11 }), ...Array.from({ length: 6 }, (_, i) => magicTree(10 + 3 * i, 1000 + 10 * i)).flat()];
    const start = light();
    const pids = pidsOf(start, 120);
    const evidence = evidenceOf(start, pids, policy());
    expect([pids.current! >= 0.8 * 120, start.length > 15, evidence.explained]).toEqual([true, true, true]);
    expect(kind(nextStep(input(light(), { pids, evidence, progress: afterKillSteps })))).toBe('restart');
  });

  test('after the kill steps only the app is left, still over max-procs by its own workers: no restart', () => {
    const evidence = evidenceOf(storm(), pidsOf(storm()), policy());
    const now = busyPlain();
    expect(kind(nextStep(input(now, { evidence, progress: afterKillSteps })))).toBe('stop:unhealthy:restart-skipped');
  });
});

describe('the container\'s main process is never a victim', () => {
  /** A shared namespace (pid=container:X, a pod): the container's init is PID 7, its CMD `npx -y @acme/mcp-hub`. */
  const sidecar = () => [
    proc(7, 0, 'npm exec @acme/mcp-hub', { init: true, startTicks: 100 }),
    proc(8, 7, 'sh -c mcp-hub', { startTicks: 110 }),
    proc(9, 8, 'node /root/.npm/_npx/1111/node_modules/.bin/mcp-hub', { startTicks: 120 }),
    ...Array.from({ length: 6 }, (_, i) => magicTree(20 + 3 * i, 1000 + 10 * i).map((p) => (p.ppid === 1 ? { ...p, ppid: 9 } : p))).flat(),
  ];

  test('shared namespace: the marked init is no runaway root; the trees it spawned are', () => {
    const procs = sidecar();
    for (const step of ['dedupe', 'oldest', 'all'] as const) {
      const n = nextStep(input(procs, { policy: policy({ maxProcs: 5 }), progress: { passed: ['dedupe', 'oldest', 'all'].slice(0, ['dedupe', 'oldest', 'all'].indexOf(step)) as NextStepInput['progress']['passed'], restartAttempted: false } }));
      if (n.kind !== 'kill') throw new Error(`expected a kill at ${step}, got ${kind(n)}`);
      const victims = n.plan.victims.flatMap((v) => v.tree.map((p) => p.pid));
      expect(victims).not.toContain(7);
      expect(victims).not.toContain(8);
      expect(victims).not.toContain(9);
    }
  });

  // A hub run as `npx -y hub` below a launcher that forks it: its sessions spawn the same MCP
  // server three times (duplicates), below the hub's own npx server.
  const HUB = { npm: 'npm exec @acme/mcp-hub', sh: 'sh -c mcp-hub', node: 'node /root/.npm/_npx/1111/node_modules/.bin/mcp-hub' };
  const hubUnder = (launchers: Proc[]) => {
    const parent = launchers.at(-1)!.pid;
    return [
      ...launchers,
      proc(20, parent, HUB.npm, { threads: 11, startTicks: 150 }),
      proc(21, 20, HUB.sh, { startTicks: 160 }),
      proc(22, 21, HUB.node, { threads: 7, startTicks: 170 }),
      ...magicTree(40, 1000, 22), ...magicTree(50, 2000, 22), ...magicTree(60, 3000, 22),
    ];
  };
  const victimsAt = (procs: Proc[], passed: NextStepInput['progress']['passed']) => {
    const n = nextStep(input(procs, { policy: policy({ maxProcs: 5 }), progress: { passed, restartAttempted: false } }));
    if (n.kind !== 'kill') throw new Error(`expected a kill, got ${kind(n)}`);
    return n.plan.victims.map((v) => v.root.pid);
  };

  // The hub below launchers that fork it. Shell-form CMD on Debian (dash forks), npm's script
  // runners, --init. Shells with options before -c (Docker's SHELL ["/bin/bash", "-o", "pipefail",
  // "-c"] as hadolint asks for it, compose's `bash -lc`, `sh -ec`), and an ENTRYPOINT script whose
  // last line runs `npx -y hub` without `exec` (its shebang makes PID 1 `/bin/sh
  // /docker-entrypoint.sh`; a shell forks every command of a script). pnpm, yarn and `node --run`
  // as PID 1: their argv as /proc showed it for pnpm 9.15.9, yarn 1.22.22 and Node 22.23.5 run
  // through their bin links (`#!/usr/bin/env node`), each running its script with `sh -c`.
  // Before, each of the shells, scripts and runners left the hub (20) as the one runaway tree
  // holding all three sessions: dedupe found nothing and oldest killed the hub with every session.
  test.each([
    ['shell-form CMD on a Debian image (dash forks): PID 1 /bin/sh -c', [proc(1, 0, '/bin/sh -c npx -y @acme/mcp-hub', { startTicks: 100 })]],
    ['CMD ["npm", "start"], a start script `npx @acme/mcp-hub`: npm start -> sh -c', [proc(1, 0, 'npm start', { startTicks: 100 }), proc(9, 1, 'sh -c npx @acme/mcp-hub', { startTicks: 120 })]],
    ['--init and a shell-form CMD: docker-init -> /bin/sh -c', [proc(1, 0, '/sbin/docker-init -- /bin/sh -c npx -y @acme/mcp-hub', { startTicks: 100 }), proc(9, 1, '/bin/sh -c npx -y @acme/mcp-hub', { startTicks: 101 })]],
    ['SHELL with options before -c: /bin/bash -o pipefail -c', [proc(1, 0, '/bin/bash -o pipefail -c npx -y @acme/mcp-hub', { startTicks: 100 })]],
    ['compose command: bash -lc', [proc(1, 0, 'bash -lc npx -y @acme/mcp-hub', { startTicks: 100 })]],
    ['options in one word: sh -ec', [proc(1, 0, '/bin/sh -ec npx -y @acme/mcp-hub', { startTicks: 100 })]],
    ['an ENTRYPOINT script without exec: /bin/sh /docker-entrypoint.sh', [proc(1, 0, '/bin/sh /docker-entrypoint.sh', { startTicks: 100 })]],
    ['a script with shell options (#!/bin/sh -e)', [proc(1, 0, '/bin/sh -e /usr/local/bin/start.sh', { startTicks: 100 })]],
    ['tini under its release asset name (ADD .../tini-static-amd64): tini-static-amd64 -> /bin/sh -c', [proc(1, 0, '/tini-static-amd64 -- /bin/sh -c npx -y @acme/mcp-hub', { startTicks: 100, comm: 'tini-static-amd' }), proc(9, 1, '/bin/sh -c npx -y @acme/mcp-hub', { startTicks: 101 })]],
    ['tini-arm64 (release asset name) -> /bin/sh -c', [proc(1, 0, '/usr/bin/tini-arm64 -- /bin/sh -c npx -y @acme/mcp-hub', { startTicks: 100, comm: 'tini-arm64' }), proc(9, 1, '/bin/sh -c npx -y @acme/mcp-hub', { startTicks: 101 })]],
    ['dumb-init under its release asset name: dumb-init_1.2.5_x86_64 -> /bin/sh -c', [proc(1, 0, '/usr/local/bin/dumb-init_1.2.5_x86_64 /bin/sh -c npx -y @acme/mcp-hub', { startTicks: 100, comm: 'dumb-init_1.2.5' }), proc(9, 1, '/bin/sh -c npx -y @acme/mcp-hub', { startTicks: 101 })]],
    ['--init and an ENTRYPOINT script: docker-init -> bash script', [proc(1, 0, '/sbin/docker-init -- /entrypoint.sh', { startTicks: 100 }), proc(9, 1, 'bash /entrypoint.sh', { startTicks: 101 })]],
    ['CMD ["pnpm", "start"]: node /usr/local/bin/pnpm start -> sh -c', [proc(1, 0, 'node /usr/local/bin/pnpm start', { startTicks: 100 }), proc(9, 1, 'sh -c npx @acme/mcp-hub', { startTicks: 120 })]],
    ['CMD ["pnpm", "run", "start:mcp-server"]', [proc(1, 0, 'node /usr/local/bin/pnpm run start:mcp-server', { startTicks: 100 }), proc(9, 1, 'sh -c npx @acme/mcp-hub', { startTicks: 120 })]],
    ['CMD ["yarn", "start"]: node /usr/local/bin/yarn start -> /bin/sh -c', [proc(1, 0, 'node /usr/local/bin/yarn start', { startTicks: 100 }), proc(9, 1, '/bin/sh -c npx @acme/mcp-hub', { startTicks: 120 })]],
    ['CMD ["node", "--run", "start"] (Node 22): -> /bin/sh -c', [proc(1, 0, '/usr/local/bin/node --run start', { startTicks: 100 }), proc(9, 1, '/bin/sh -c npx @acme/mcp-hub', { startTicks: 120 })]],
  ] as const)('%s: the hub is the main process; its sessions are the trees, dedupe keeps the newest', (_, launchers) => {
    const procs = hubUnder([...launchers]);
    expect(victimsAt(procs, [])).toEqual([40, 50]);
    // oldest and all: the sessions, never the hub (20) or what runs it
    for (const passed of [['dedupe'], ['dedupe', 'oldest']] as const) {
      const victims = victimsAt(procs, [...passed]);
      expect(victims.every((pid) => [40, 50, 60].includes(pid))).toBe(true);
    }
  });

  test('an interactive shell or one reading its commands from stdin is no launcher: its first child is not the main process', () => {
    for (const shell of ['/bin/sh', 'bash -i', 'sh -s']) {
      const procs = [proc(1, 0, shell, { startTicks: 100 }), ...magicTree(40, 1000), ...magicTree(50, 2000)];
      expect(victimsAt(procs, [])).toEqual([40]);
    }
  });

  test('a shell PID 1 that spawned its sessions itself: its first child is the main process, the later ones are trees', () => {
    const procs = [proc(1, 0, 'sh -c node server.js', { startTicks: 100 }), proc(7, 1, 'node server.js', { startTicks: 110 }), ...magicTree(40, 1000), ...magicTree(50, 2000)];
    expect(victimsAt(procs, [])).toEqual([40]);
  });

  test('docker run --init: PID 1 docker-init, its first child the CMD; an orphan re-parented to the shim later is still a runaway', () => {
    const procs = [
      proc(1, 0, '/sbin/docker-init -- npx -y @acme/mcp-hub', { startTicks: 100 }),
      proc(7, 1, 'npm exec @acme/mcp-hub', { startTicks: 101 }),
      proc(8, 7, 'node /root/.npm/_npx/1111/node_modules/.bin/mcp-hub', { startTicks: 150 }),
      proc(30, 1, MAGIC.node, { startTicks: 5000 }),
      proc(31, 1, MAGIC.node, { startTicks: 6000 }),
    ];
    const n = nextStep(input(procs, { policy: policy({ maxProcs: 4 }) }));
    if (n.kind !== 'kill') throw new Error(`expected a kill, got ${kind(n)}`);
    expect(n.plan.victims.map((v) => v.root.pid)).toEqual([30]);
    const all = nextStep(input(procs, { policy: policy({ maxProcs: 2 }), progress: { passed: ['dedupe', 'oldest'], restartAttempted: false } }));
    if (all.kind !== 'kill') throw new Error(`expected a kill, got ${kind(all)}`);
    expect(all.plan.victims.map((v) => v.root.pid).sort()).toEqual([30, 31]);
  });
});

