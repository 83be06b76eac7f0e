// The look a restart stands on starts with an inspect, then reads the processes (ps and cat in the
// container, each up to --timeout) and asks the engine which containers join its PID namespace (a
// listing and an inspect per unknown container): the restart request went out after all of that
// with no inspect in between. A `docker stop` by an operator in that window was undone (a restart
// of a stopped container starts it), and a container the engine or someone else restarted there
// was restarted again on a look at the run before. Now one more inspect comes right before the
// request: the same run (StartedAt and init PID) still running, or no restart. The engine and the
// host are fakes (helpers/fake-host.ts); the ladder goes straight to the restart.
import { expect, test } from 'bun:test';
import { cleanupOn, FAKE_ID, fakeHostPerTest, RESTART_ONLY, running, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const OTHER_RUN: FakeRun = { initPid: 7402, startedAt: '2026-11-21T07:31:02.000000000Z', processes: 6 };
const RESTART = `POST /containers/${FAKE_ID}/restart`;

const fakeHost = fakeHostPerTest();

/**
 * Runs `change` when the restart's joiner check lists the containers, after the confirming look:
 * the 3rd listing (each listing is two: the default one and the paused containers, src/engine/listing.ts).
 */
function atJoinerCheck(h: ReturnType<typeof fakeHost>, change: () => void): void {
  let listings = 0;
  h.intercept = (method, path) => {
    if (method === 'GET' && path === '/containers/json' && ++listings === 3) change();
    return undefined;
  };
}

test('stopped by an operator after the confirming look: not restarted (a restart would start it again)', async () => {
  const h = fakeHost(RUN);
  atJoinerCheck(h, () => void (h.state = { ...running(RUN), Status: 'exited', Running: false, Pid: 0, ExitCode: 0, FinishedAt: '2026-11-21T07:00:00.000000000Z' }));
  const { lines } = await cleanupOn(h, RESTART_ONLY);
  expect(h.asked).not.toContain(RESTART);
  expect(lines.find((l) => l['event'] === 'restart')).toBeUndefined();
  const result = lines.find((l) => l['event'] === 'result')!;
  expect(String(result['reason'])).toContain('the container stopped, paused or went away');
  expect(result['steps']).toEqual([]);
});

test('restarted by someone else after the confirming look: that run is looked at afresh, not restarted on the old run\'s look', async () => {
  const h = fakeHost(RUN);
  // the new run is healthy (1 process): the look at it finds nothing to do
  atJoinerCheck(h, () => {
    h.run({ ...OTHER_RUN, processes: 1 });
    h.state = { ...running(OTHER_RUN), FinishedAt: '2026-11-21T07:31:01.000000000Z' };
  });
  const { lines } = await cleanupOn(h, RESTART_ONLY);
  expect(h.asked).not.toContain(RESTART);
  const result = lines.find((l) => l['event'] === 'result')!;
  expect(result).toMatchObject({ healthy: true, steps: [], after: { processes: 1 } });
});

test('still the same run right before the request: restarted as before', async () => {
  const h = fakeHost(RUN);
  h.onRestart = () => {
    h.run({ ...OTHER_RUN, processes: 1 });
    h.state = { ...running(OTHER_RUN), FinishedAt: '2026-11-21T07:31:01.000000000Z' };
  };
  const { code } = await cleanupOn(h, RESTART_ONLY);
  expect(h.asked).toContain(RESTART);
  expect(code).toBe(0);
});
