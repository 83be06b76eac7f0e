// The last look before reap stops a container: the run the rules judged must still be the one
// running. A container with a restart policy that exited since it was observed is `restarting`
// (moby's SetRestarting: Running stays true, Pid 0, StartedAt unchanged), and a stop would cancel
// the restart the engine has planned. A fake engine on a unix socket answers the inspect.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { connectEngine } from '../../src/engine/client.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';

const ID = 'b'.repeat(64);
const STARTED_AT = '2026-12-02T07:00:00.000000000Z';
const INIT_PID = 4242;
const dir = mkdtempSync(join(tmpdir(), 'pw-reap-recheck-'));
const socket = join(dir, 'engine.sock');
let state: Record<string, unknown> = {};
const posts: string[] = [];
const server = Bun.serve({
  unix: socket,
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    // the joiner check's listing (src/act/reap.ts): nothing joins this container
    if (req.method === 'GET' && path === '/containers/json') return Response.json([]);
    if (req.method === 'GET' && path === `/containers/${ID}/json`) return Response.json({ Id: ID, State: state });
    if (req.method === 'POST') {
      posts.push(path);
      return new Response(null, { status: 204 });
    }
    return Response.json({ message: 'page not found' }, { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
const info = { id: ID, name: 'router-7', labels: {}, initPid: INIT_PID, running: true } as unknown as ContainerInfo;
const stop = () => reapContainer(engine, info, Date.parse(STARTED_AT), false, { dryRun: false, remove: false, stopTimeoutSeconds: 10 });

test('exited since it was observed, its restart planned (restarting, Pid 0): left alone, no stop sent', async () => {
  state = { Status: 'restarting', Running: true, Restarting: true, Pid: 0, StartedAt: STARTED_AT, FinishedAt: '2026-12-02T09:00:05Z' };
  posts.length = 0;
  expect((await stop()).result).toBe('restarted-meanwhile');
  expect(posts).toEqual([]);
});

test('another init PID under the same StartedAt: not the run judged, left alone', async () => {
  state = { Status: 'running', Running: true, Restarting: false, Pid: INIT_PID + 1, StartedAt: STARTED_AT };
  posts.length = 0;
  expect((await stop()).result).toBe('restarted-meanwhile');
  expect(posts).toEqual([]);
});

test('the same run still running: stopped', async () => {
  state = { Status: 'running', Running: true, Restarting: false, Pid: INIT_PID, StartedAt: STARTED_AT };
  posts.length = 0;
  expect((await stop()).result).toBe('stopped');
  expect(posts).toEqual([`/containers/${ID}/stop`]);
});
