// Reap never stops a container that another joins with --pid=container:X (compose's
// `pid: "service:x"`): when X's init dies the kernel SIGKILLs every process of its PID namespace,
// the sidecar's too, which reap never selected nor looked at. A fake engine on a unix socket lists
// X and its sidecar; the sidecar's inspect names X in its PidMode.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { connectEngine } from '../../src/engine/client.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';

const X = 'c'.repeat(64);
const SIDECAR = 'd'.repeat(64);
const STARTED_AT = '2026-12-02T07:00:00.000000000Z';
const INIT_PID = 4242;
const running = { Status: 'running', Running: true, Restarting: false, Pid: INIT_PID, StartedAt: STARTED_AT };
const dir = mkdtempSync(join(tmpdir(), 'pw-reap-joiners-'));
const socket = join(dir, 'engine.sock');
const posts: string[] = [];
const server = Bun.serve({
  unix: socket,
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (req.method === 'GET' && path === '/containers/json') {
      const paused = new URL(req.url).searchParams.get('filters')?.includes('paused') === true;
      return Response.json(paused ? [] : [{ Id: X, Names: ['/mcp-wrapper-7'], Created: 1764658800 }, { Id: SIDECAR, Names: ['/wrapper-7-logs'], Created: 1764658801 }]);
    }
    if (req.method === 'GET' && path === `/containers/${X}/json`) {
      return Response.json({ Id: X, Name: '/mcp-wrapper-7', Created: '2026-12-02T07:00:00.000Z', State: running, HostConfig: { PidMode: '' } });
    }
    if (req.method === 'GET' && path === `/containers/${SIDECAR}/json`) {
      return Response.json({ Id: SIDECAR, Name: '/wrapper-7-logs', Created: '2026-12-02T07:00:01.000Z', State: { ...running, Pid: INIT_PID + 1 }, HostConfig: { PidMode: `container:${X}` } });
    }
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
const info = { id: X, name: 'mcp-wrapper-7', labels: {}, initPid: INIT_PID, running: true } as unknown as ContainerInfo;

test('a container its sidecar joins (--pid=container:X) is not stopped: refused, naming the sidecar; no stop sent', async () => {
  posts.length = 0;
  const a = await reapContainer(engine, info, Date.parse(STARTED_AT), false, { dryRun: false, remove: true, stopTimeoutSeconds: 10 });
  expect(a.result).toBe('refused');
  expect(a.error).toContain('wrapper-7-logs');
  expect(a.error).toContain('a stop would kill their processes too');
  expect(posts).toEqual([]);
});

test('the dry run says the same: refused, not "dry-run"', async () => {
  const a = await reapContainer(engine, info, Date.parse(STARTED_AT), false, { dryRun: true, remove: false, stopTimeoutSeconds: 10 });
  expect(a.result).toBe('refused');
  expect(posts).toEqual([]);
});
