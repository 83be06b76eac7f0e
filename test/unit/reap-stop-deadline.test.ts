// A reap stop waits for the engine as long as the stop itself may take: --timeout plus the stop
// timeout, as a restart does. A fake engine on a unix socket answers the inspect at once and the
// stop 3 x --timeout later (a PID 1 that ignores SIGTERM is SIGKILLed at the end of the stop timeout).
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { restartContainer, type ContainerInfo } from '../../src/engine/containers.ts';

const TIMEOUT_MS = 300;
const STOP_ANSWER_MS = 3 * TIMEOUT_MS;
const STARTED_AT = '2026-12-02T07:00:00.000000000Z';
const ID = 'a'.repeat(64);
/** A container whose stop (and restart) the fake engine answers only after the client's socket timeout. */
const SLOW_ID = 'b'.repeat(64);
/** connectEngine's socket timeout for dockerode calls: --timeout plus its 1 s grace. */
const SOCKET_TIMEOUT_MS = TIMEOUT_MS + 1000;
const SLOW_ANSWER_MS = SOCKET_TIMEOUT_MS + 500;
/** Far more than SLOW_ANSWER_MS: the deadline the call has (--timeout plus this stop timeout) is not what is under test. */
const LONG_STOP_TIMEOUT_S = 20;

const dir = mkdtempSync(join(tmpdir(), 'pw-reapstop-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    // the joiner check's listing (src/act/reap.ts): nothing joins these containers
    if (req.method === 'GET' && path.endsWith('/containers/json')) return Response.json([]);
    if (req.method === 'GET' && path.endsWith(`/containers/${ID}/json`)) {
      return Response.json({ Id: ID, State: { Running: true, Pid: 4242, StartedAt: STARTED_AT } });
    }
    if (req.method === 'GET' && path.endsWith(`/containers/${SLOW_ID}/json`)) {
      return Response.json({ Id: SLOW_ID, State: { Running: true, Pid: 4242, StartedAt: STARTED_AT } });
    }
    if (req.method === 'POST' && (path.endsWith(`/containers/${SLOW_ID}/stop`) || path.endsWith(`/containers/${SLOW_ID}/restart`))) {
      await Bun.sleep(SLOW_ANSWER_MS); // silent longer than the socket timeout fixed at connect
      return new Response(null, { status: 204 });
    }
    if (req.method === 'POST' && path.endsWith(`/containers/${ID}/stop`)) {
      await Bun.sleep(STOP_ANSWER_MS); // the fake engine's own stop time: what is under test is the client's patience
      return new Response(null, { status: 204 });
    }
    return new Response('not found', { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const info = { id: ID, name: 'mcp-wrapper', labels: {}, initPid: 4242, running: true, state: 'running' } as unknown as ContainerInfo;

test('a stop that takes longer than --timeout but less than --timeout + the stop timeout is a stop, not a failure', async () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: TIMEOUT_MS, procRoot: '/proc' });
  const r = await reapContainer(engine, info, Date.parse(STARTED_AT), false, { dryRun: false, remove: false, stopTimeoutSeconds: 3 });
  expect(r.result).toBe('stopped');
});

// A container whose own stop timeout is longer than what the engine connection was set up for
// (compose's stop_grace_period: 5m against the 120 s assumed at connect): the engine is silent for
// all of it. Through dockerode the modem's socket timeout cut the call off as "socket hang up",
// reported as an unreachable engine while the engine went on stopping or restarting.
test('a stop the engine answers after the connection socket timeout, within the stop timeout, is a stop', async () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: TIMEOUT_MS, procRoot: '/proc' });
  const slow = { ...info, id: SLOW_ID } as ContainerInfo;
  const r = await reapContainer(engine, slow, Date.parse(STARTED_AT), false, { dryRun: false, remove: false, stopTimeoutSeconds: LONG_STOP_TIMEOUT_S });
  expect(r).toMatchObject({ result: 'stopped' });
});

test('a restart the engine answers after the connection socket timeout, within the stop timeout, is a restart', async () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: TIMEOUT_MS, procRoot: '/proc' });
  await restartContainer(engine, SLOW_ID, { seconds: LONG_STOP_TIMEOUT_S, from: 'container' });
});
