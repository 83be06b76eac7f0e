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
/** Another container on the host, whose processes may be given a PID the container's init had. */
const OTHER_ID = 'aa'.repeat(32);
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

/**
 * A process in procRoot: its proc(5) stat line, starttime (field 22) in clock ticks since boot, and
 * its cgroup, Docker's on a cgroup v2 systemd host, named after the container it runs in.
 */
function processHere(procRoot: string, pid: number, comm: string, startTicks: number, containerId = ID): void {
  mkdirSync(join(procRoot, String(pid)), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'stat'), `${pid} (${comm}) S 0 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 0 0\n`);
  writeFileSync(join(procRoot, String(pid), 'cgroup'), `0::/system.slice/docker-${containerId}.scope\n`);
}

test('restarted from outside, its old init PID reused by another process: inspected again, the new init PID followed', async () => {
  const { fake, procRoot, inspects } = stage();
  processHere(procRoot, OLD_INIT, 'node', FIXTURE_INIT_TICKS);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(2); // the inspect and the one that confirms it; the init lives on: the cached inspect serves

  // the restart: a new init, and the old PID handed to a process started 10 min later
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: RESTARTED_AT };
  processHere(procRoot, NEW_INIT, 'node', NEW_INIT_TICKS);
  processHere(procRoot, OLD_INIT, 'sh', REUSER_TICKS, OTHER_ID);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(4);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(4); // and the new init's inspect is cached in turn
});

// The same restart between the inspect and the read of its init's start time: the inspect still
// names the old init, and the process at that PID is already another one. Before, its start time
// was kept with the inspect, every later cycle found that same process there, and the stale
// inspect (the old init PID, the old start) was kept for as long as that process lived.
test('restarted between the inspect and the read of its init, the PID already reused: the inspect is not kept', async () => {
  const { fake, procRoot, inspects } = stage();
  processHere(procRoot, OLD_INIT, 'sh', REUSER_TICKS, OTHER_ID);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(1);
  // the engine now says what it did: the next cycle asks again and follows the new init
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: RESTARTED_AT };
  processHere(procRoot, NEW_INIT, 'node', NEW_INIT_TICKS);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(3);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(3);
});

// A crash loop: the engine restarts the container within seconds, so a process given the old
// init's PID can have started inside the 10 s window of the start the inspect names, and the
// start time alone no longer tells it from the init.
/** A restart 2.6 s after the first start (06:20:44.889): its init forked at 06:20:47.3. */
const CRASH_RESTARTED_AT = '2026-11-21T06:20:47.500000000Z';
const CRASH_NEW_INIT_TICKS = 130_000;
/** A process forked at 06:20:46.0, 1.1 s after the first start: inside that start's window. */
const IN_WINDOW_TICKS = 129_900;

test('the old init PID taken, inside the start window, by a process of another container: the inspect is not kept', async () => {
  const { fake, procRoot, inspects } = stage();
  processHere(procRoot, OLD_INIT, 'sh', IN_WINDOW_TICKS, OTHER_ID);
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]);
  expect(inspects()).toBe(1); // not shown to be the init (another cgroup): not confirmed, not kept
  fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: CRASH_RESTARTED_AT };
  processHere(procRoot, NEW_INIT, 'node', CRASH_NEW_INIT_TICKS);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(3);
});

test('the old init PID taken, inside the start window, by a process of the container\'s own next run: the second inspect tells, the inspect is not kept', async () => {
  const { fake, procRoot, inspects } = stage();
  // between the inspect and the read of its init, the engine restarted the container, and a
  // process of the new run (in the container's own cgroup) was given the old init's PID
  processHere(procRoot, OLD_INIT, 'sh', IN_WINDOW_TICKS);
  processHere(procRoot, NEW_INIT, 'node', CRASH_NEW_INIT_TICKS);
  fake.onAsk = (path) => {
    if (path === `/containers/${ID}/json` && inspects() === 2) {
      fake.containers[0] = { ...fake.containers[0]!, initPid: NEW_INIT, startedAt: CRASH_RESTARTED_AT };
    }
  };
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([OLD_INIT]); // this cycle's inspect, as it was
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect((await lister.list()).map((i) => i.initPid)).toEqual([NEW_INIT]);
  expect(inspects()).toBe(4); // the new run's inspect, confirmed, is kept in turn
});
