// A restart clears the zombies the container's main process never reaps: nothing else does, since
// the main process is never a victim. The PID 1 of a namespace nested inside the container (an
// inner container of a docker:dind, sysbox, `unshare -fp`) is never a victim either, but a restart
// of the outer container is not its remedy: it ends every inner container and the inner engine
// with it, the collateral that made nested inits main processes in the first place. Zombies held
// inside an inner container are that container's own, and no ground for restarting the outer one.
import { expect, test } from 'bun:test';
import { resolveSettings } from '../../src/cli/settings.ts';
import { evidenceOf } from '../../src/decide/evidence.ts';
import { nextStep } from '../../src/decide/next-step.ts';
import { globalPolicy } from '../../src/decide/policy.ts';
import type { Proc } from '../../src/types.ts';
import { proc, totalTasks } from './helpers/procs.ts';

const NOW = 1_800_000_000_000;
const policy = { ...globalPolicy(resolveSettings('cleanup', {}, {}, {})), maxProcs: 8 };
const zombies = (parent: number, first: number) => Array.from({ length: 10 }, (_, i) => proc(first + i, parent, '[npm exec foo]', { state: 'Z', startTicks: 1000 + first + i }));

/** A docker:dind: dockerd under the entrypoint, one inner container whose CMD is `npx -y hub`, its PID 1 holding 10 zombies. */
const dind = (): Proc[] => [
  proc(1, 0, 'docker-init -- dockerd-entrypoint.sh dockerd', { startTicks: 1 }),
  proc(7, 1, 'dockerd --host=unix:///var/run/docker.sock', { startTicks: 2 }),
  proc(50, 7, 'containerd-shim-runc-v2 -namespace moby -id 0123', { startTicks: 3 }),
  { ...proc(60, 50, 'npm exec hub', { startTicks: 4 }), nestedInit: true },
  proc(61, 60, 'node /root/.npm/_npx/8c1a/node_modules/.bin/hub', { startTicks: 5 }),
  ...zombies(60, 100),
];

function decide(procs: Proc[]) {
  const pids = { current: totalTasks(procs), max: null, source: 'cgroup-v1' as const };
  const evidence = evidenceOf(procs, pids, policy);
  return { evidence, next: nextStep({ procs, pids, policy, emergency: false, evidence, progress: { passed: [], restartAttempted: false }, restartHistory: [], nowMs: NOW }) };
}

test("zombies held by an inner container's PID 1 are no ground to restart the dind container", () => {
  const { evidence, next } = decide(dind());
  expect(evidence.heldZombies).toEqual([]);
  expect(next.kind).not.toBe('restart');
});

test("the outer main process's own zombies still are", () => {
  const procs = [...dind().filter((p) => p.state !== 'Z'), ...zombies(7, 100)];
  const { evidence, next } = decide(procs);
  expect(evidence.heldZombies).toHaveLength(10);
  expect(next.kind).toBe('restart');
});
