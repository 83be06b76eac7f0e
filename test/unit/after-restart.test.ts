// A container that cleanup restarted and that is not up afterwards (it exited at once, the engine
// is restarting it, or the engine restarts it again right after the look that found it up: a crash
// loop) is not healthy: the result line says so with the state it is in, and cleanup exits 1.
// Before, the look after the restart took it for one an operator had stopped ("gone") and the
// result line said healthy, exit 0. The engine and the host are fakes (helpers/fake-host.ts);
// the ladder goes straight to the restart (--steps restart --restart always).
import { describe, expect, test } from 'bun:test';
import { downAfterRestart } from '../../src/decide/after-restart.ts';
import { cleanupOn, FAKE_ID, FAKE_NAME, fakeHostPerTest, RESTART_ONLY, running, type FakeHost, type FakeRun } from './helpers/fake-host.ts';

const FIRST: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const SECOND: FakeRun = { initPid: 7402, startedAt: '2026-11-21T07:31:02.000000000Z', processes: 1 };
const FINISHED_AT = '2026-11-21T07:31:01.000000000Z';

const fakeHost = fakeHostPerTest();

async function cleanup(h: FakeHost): Promise<{ code: number; stderr: string; result: Record<string, unknown> }> {
  const { code, stderr, lines } = await cleanupOn(h, RESTART_ONLY);
  return { code, stderr, result: lines.find((l) => l['event'] === 'result')! };
}

const exited = { ...running(FIRST), Status: 'exited', Running: false, Pid: 0, ExitCode: 1, FinishedAt: FINISHED_AT };
const restarting = { ...running(FIRST), Status: 'restarting', Running: true, Restarting: true, Pid: 0, ExitCode: 1, FinishedAt: FINISHED_AT };

test.each([
  ['exited right after the restart', exited, 'exited (exit code 1)'],
  ['being restarted again by the engine', restarting, 'restarting (exit code 1)'],
] as const)('a container %s is not healthy: exit 1, and the result line names its state', async (_, after, said) => {
  const h = (fakeHost(FIRST));
  h.onRestart = () => void (h.state = after);
  const { code, stderr, result } = await cleanup(h);
  expect(h.asked).toContain(`POST /containers/${FAKE_ID}/restart`);
  expect(result).toMatchObject({ healthy: false, stateAfterRestart: after.Status });
  expect(String(result['reason'])).toContain(said);
  expect(stderr).toContain(`${FAKE_NAME}: steps restart;`);
  expect(stderr).toContain(`NOT RUNNING after the restart: ${said}`);
  expect(code).toBe(1);
});

test('up at the first look after the restart, then restarted again by the engine (a crash loop): not healthy', async () => {
  const h = (fakeHost(FIRST));
  const up = { ...running(SECOND), FinishedAt: FINISHED_AT };
  const again = { ...up, Status: 'restarting', Restarting: true, Pid: 0, ExitCode: 1 };
  h.onRestart = () => {
    h.run(SECOND);
    // the engine's restart policy brings it back and it dies again: every inspect after the first finds it restarting
    h.stateNow = () => (h.inspectsSinceRestart <= 1 ? up : again);
  };
  const { code, stderr, result } = await cleanup(h);
  expect(result).toMatchObject({ healthy: false, stateAfterRestart: 'restarting' });
  expect(stderr).toContain('NOT RUNNING after the restart: restarting (exit code 1)');
  expect(code).toBe(1);
});

test('up after the restart and still the same run of it at the end: healthy, exit 0', async () => {
  const h = (fakeHost(FIRST));
  h.onRestart = () => {
    h.run(SECOND);
    h.state = { ...running(SECOND), FinishedAt: FINISHED_AT };
  };
  const { code, stderr, result } = await cleanup(h);
  expect(result).toMatchObject({ healthy: true, after: { processes: 1, pidsCurrent: 1 } });
  expect(result['stateAfterRestart']).toBeUndefined();
  expect(stderr).toContain(`${FAKE_NAME}: steps restart; 6 -> 1 processes, pids 6 -> 1, restarted; healthy`);
  expect(code).toBe(0);
});

// The engine, busy right after the restart, does not answer the inspect within --timeout, or
// answers one that is no container. Before, that inspect threw: no result line, and cleanup's
// summary said only "error: …", not that the container had been restarted.
const INSPECT = `GET /containers/${FAKE_ID}/json`;

test('no answer to the inspect right after the restart: its state is unknown, not healthy, and the result line still comes', async () => {
  const h = (fakeHost(FIRST, { timeoutMs: 300 }));
  let restarted = false;
  h.onRestart = () => {
    h.run(SECOND);
    h.state = { ...running(SECOND), FinishedAt: FINISHED_AT };
    restarted = true;
  };
  h.intercept = (method, path) => (restarted && `${method} ${path}` === INSPECT ? h.hang() : undefined);
  const { code, stderr, result } = await cleanup(h);
  expect(result).toMatchObject({ healthy: false, stateAfterRestart: 'unknown', steps: ['restart'], after: { processes: null, pidsCurrent: null } });
  expect(String(result['reason'])).toStartWith('restarted; not inspectable after the restart: cannot reach the Docker engine');
  expect(String(result['reason'])).toContain('no answer within 0.3 s');
  expect(stderr).toContain(`${FAKE_NAME}: steps restart; 6 -> ? processes, pids 6 -> ?, restarted; NOT HEALTHY, not inspectable after the restart:`);
  expect(code).toBe(1);
});

test('up at the look after the restart, then an inspect that is no container: unknown, not healthy', async () => {
  const h = (fakeHost(FIRST));
  let inspectsAfterRestart = -1;
  h.onRestart = () => {
    h.run(SECOND);
    h.state = { ...running(SECOND), FinishedAt: FINISHED_AT };
    inspectsAfterRestart = 0;
  };
  // the first inspect after the restart finds it up; every later one answers without an ID or name
  h.intercept = (method, path) => (inspectsAfterRestart >= 0 && `${method} ${path}` === INSPECT && ++inspectsAfterRestart > 1 ? Response.json({}) : undefined);
  const { code, stderr, result } = await cleanup(h);
  expect(inspectsAfterRestart).toBe(2);
  expect(result).toMatchObject({ healthy: false, stateAfterRestart: 'unknown', steps: ['restart'] });
  expect(String(result['reason'])).toBe('restarted; not inspectable after the restart: the engine answered an inspect without a container ID and name');
  expect(stderr).toContain('restarted; NOT HEALTHY, not inspectable after the restart: the engine answered an inspect without a container ID and name');
  expect(code).toBe(1);
});

describe('downAfterRestart', () => {
  const at = FIRST.startedAt;
  const later = SECOND.startedAt;
  test.each([
    ['running the start the look after the restart saw', { running: true, state: 'running', startedAt: at, exitCode: 0 }, at, null],
    ['running, nothing seen yet', { running: true, state: 'running', startedAt: at, exitCode: 0 }, undefined, null],
    ['exited', { running: false, state: 'exited', startedAt: at, exitCode: 137 }, undefined, 'exited'],
    ['restarting', { running: false, state: 'restarting', startedAt: at, exitCode: 1 }, undefined, 'restarting'],
    ['running a newer start than the one seen', { running: true, state: 'running', startedAt: later, exitCode: 1 }, at, 'restarted-again'],
    ['removed (--rm)', null, undefined, 'removed'],
  ] as const)('%s', (_, now, upAt, state) => {
    expect(downAfterRestart(now, upAt)?.state ?? null).toBe(state);
  });
});
