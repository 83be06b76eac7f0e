// The monitor's listing reuses an earlier inspect while the container's init lives on. A restart
// from outside (`docker restart`, the engine's restart policy) gives the container a new init; if
// another process has meanwhile been given the old init's PID, that PID still exists, but it is no
// longer the init the inspect named: its start time says so. The fake engine's inspect and a /proc
// laid out in a temp dir stage it (PID reuse cannot be staged on a real host).
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerLister } from '../../src/engine/containers.ts';
import { startFakeEngine } from './helpers/fake-engine.ts';

const ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8';
const OLD_INIT = 6747;
const NEW_INIT = 7012;

const fake = startFakeEngine([{ id: ID, name: 'web', initPid: OLD_INIT }]);
const procRoot = mkdtempSync(join(tmpdir(), 'pw-lister-restart-'));
afterAll(() => {
  fake.stop();
  rmSync(procRoot, { recursive: true, force: true });
});

/** A process in procRoot: its proc(5) stat line, starttime (field 22) in clock ticks since boot. */
function processHere(pid: number, comm: string, startTicks: number): void {
  mkdirSync(join(procRoot, String(pid)), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'stat'), `${pid} (${comm}) S 0 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 0 0\n`);
}

const inspects = () => fake.asked.filter((p) => p === `/containers/${ID}/json`).length;

test('restarted from outside, its old init PID reused by another process: inspected again, the new init PID followed', async () => {
  processHere(OLD_INIT, 'node', 129_760);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(1); // the init lives on: the cached inspect serves

  // the restart: a new init, and the old PID handed to a process started 10 min later
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT };
  processHere(NEW_INIT, 'node', 189_900);
  processHere(OLD_INIT, 'sh', 189_760);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2); // and the new init's inspect is cached in turn
});
