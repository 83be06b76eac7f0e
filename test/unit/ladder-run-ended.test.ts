// A ladder that ends with the container still over its limits looks once more before it says so:
// an operator's `docker stop` during a step ends PID 1 first, and the engine records the stop a
// moment later. A look in between found the engine saying "running", and the summary read STILL
// UNHEALTHY (exit 1) for a container that was stopping. Now the init seen at the start is read
// again from the host's /proc (a zombie there: its run is over) and the engine asked once more.
// The engine and the host are fakes (helpers/fake-host.ts); no step can run (restart never).
import { expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupOn, fakeHostPerTest, running, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const NO_STEP = { all: true, 'max-procs': 3, steps: 'restart', restart: 'never' };

const fakeHost = fakeHostPerTest();

/** The init's stat with state Z: it has exited and its shim has not reaped it yet. */
function initExited(procRoot: string, initPid: number): void {
  const path = join(procRoot, String(initPid), 'stat');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/\) S /, ') Z '));
}

test('the run is still there: STILL UNHEALTHY, exit 1', async () => {
  const h = fakeHost(RUN);
  const { code, stderr } = await cleanupOn(h, NO_STEP);
  expect(stderr).toContain('STILL UNHEALTHY');
  expect(code).toBe(1);
});

test('its init exited while the engine still says running: stopped during cleanup, left alone, exit 0', async () => {
  const h = fakeHost(RUN);
  // after the look the ladder decides on: at the listing of the restart's joiner check there is
  // none (restart never), so at the last inspect of the ladder's first look
  let inspects = 0;
  h.intercept = (method, path) => {
    if (method === 'GET' && path.endsWith('/json') && path.startsWith('/containers/f') && ++inspects === 2) initExited(h.procRoot, RUN.initPid);
    return undefined;
  };
  const { code, stderr, lines } = await cleanupOn(h, NO_STEP);
  expect(stderr).toContain('stopped or removed during cleanup, left alone');
  expect(code).toBe(0);
  expect(String(lines.find((l) => l['event'] === 'result')!['reason'])).toContain('the container stopped, paused or went away');
});

test('the engine says stopped at the ladder\'s own look: the same (it said so before too)', async () => {
  const h = fakeHost(RUN);
  let inspects = 0;
  h.intercept = (method, path) => {
    if (method === 'GET' && path.endsWith('/json') && path.startsWith('/containers/f') && ++inspects === 2) {
      h.state = { ...running(RUN), Status: 'exited', Running: false, Pid: 0, ExitCode: 143, FinishedAt: '2026-11-21T07:00:00.000000000Z' };
    }
    return undefined;
  };
  const { code, stderr } = await cleanupOn(h, NO_STEP);
  expect(stderr).toContain('stopped or removed during cleanup, left alone');
  expect(code).toBe(0);
});
