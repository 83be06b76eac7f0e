// A reap stop waits for the engine as long as the stop itself may take: --timeout plus the stop
// timeout, as a restart does. A fake engine on a unix socket answers the inspect at once and the
// stop 3 x --timeout later (a PID 1 that ignores SIGTERM is SIGKILLed at the end of the stop timeout).
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { connectEngine } from '../../src/engine/client.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';

const TIMEOUT_MS = 300;
const STOP_ANSWER_MS = 3 * TIMEOUT_MS;
const STARTED_AT = '2026-12-02T07:00:00.000000000Z';
const ID = 'a'.repeat(64);

const dir = mkdtempSync(join(tmpdir(), 'pw-reapstop-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method === 'GET' && path.endsWith(`/containers/${ID}/json`)) {
      return Response.json({ Id: ID, State: { Running: true, StartedAt: STARTED_AT } });
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
