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
import { FIXTURE_INIT_TICKS, startFakeEngine, writeFixtureBootTime, type FakeEngine } from './helpers/fake-engine.ts';

const ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8';
const OLD_INIT = 6747;
const NEW_INIT = 7012;
/** The restart, 10 min after the first start: its init forked at 189_900 ticks (06:30:46.0), started 0.4 s later. */
const RESTARTED_AT = '2026-11-21T06:30:46.400000000Z';
const NEW_INIT_TICKS = 189_900;
/** A process given the old init's PID after the restart: started 10 min after that init. */
const REUSER_TICKS = 189_760;

const fakes: FakeEngine[] = [];
const roots: string[] = [];
afterAll(() => {
  for (const f of fakes) f.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fake engine with the one container, and a /proc of its own. */
function stage(): { fake: FakeEngine; procRoot: string; inspects: () => number } {
  const fake = startFakeEngine([{ id: ID, name: 'web', initPid: OLD_INIT }]);
  const procRoot = mkdtempSync(join(tmpdir(), 'pw-lister-restart-'));
  writeFixtureBootTime(procRoot);
  fakes.push(fake);
  roots.push(procRoot);
  return { fake, procRoot, inspects: () => fake.asked.filter((p) => p === `/containers/${ID}/json`).length };
}

/** A process in procRoot: its proc(5) stat line, starttime (field 22) in clock ticks since boot. */
function processHere(procRoot: string, pid: number, comm: string, startTicks: number): void {
  mkdirSync(join(procRoot, String(pid)), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'stat'), `${pid} (${comm}) S 0 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 0 0\n`);
}

test('restarted from outside, its old init PID reused by another process: inspected again, the new init PID followed', async () => {
  const { fake, procRoot, inspects } = stage();
  processHere(procRoot, OLD_INIT, 'node', FIXTURE_INIT_TICKS);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(1); // the init lives on: the cached inspect serves

  // the restart: a new init, and the old PID handed to a process started 10 min later
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: RESTARTED_AT };
  processHere(procRoot, NEW_INIT, 'node', NEW_INIT_TICKS);
  processHere(procRoot, OLD_INIT, 'sh', REUSER_TICKS);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2); // and the new init's inspect is cached in turn
});

// The same restart between the inspect and the read of its init's start time: the inspect still
// names the old init, and the process at that PID is already another one. Before, its start time
// was kept with the inspect, every later cycle found that same process there, and the stale
// inspect (the old init PID, the old start) was kept for as long as that process lived.
test('restarted between the inspect and the read of its init, the PID already reused: the inspect is not kept', async () => {
  const { fake, procRoot, inspects } = stage();
  processHere(procRoot, OLD_INIT, 'sh', REUSER_TICKS);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(1);
  // the engine now says what it did: the next cycle asks again and follows the new init
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: RESTARTED_AT };
  processHere(procRoot, NEW_INIT, 'node', NEW_INIT_TICKS);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(2);
});
