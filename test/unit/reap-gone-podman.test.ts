// Podman answers an inspect of a container removed since it was listed with a 500 "no such
// container" (it looks the container up, then inspects it), not Docker's 404: a flood of short-lived
// MCP wrappers, which the reap is for, removes containers between its listing and its inspects all
// the time. The listing's inspects took that for gone (containers.ts, inspectById); the reap's own
// two inspects took it for a failure: its facts as an error line (`reap` exit 1), its re-check
// before a stop as "STOP FAILED" (exit 1) for a container already gone. A fake engine on a unix
// socket answers every inspect as Podman 4.3 does for such a container.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { connectEngine } from '../../src/engine/client.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';
import { ReapFactsCache } from '../../src/observe/reap-subject.ts';

const ID = 'f'.repeat(64);
let stops = 0;
const dir = mkdtempSync(join(tmpdir(), 'pw-reap-gone-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (path === `/containers/${ID}/json`) {
      return Response.json({ cause: 'no such container', message: `no container with ID ${ID} found in database: no such container`, response: 500 }, { status: 500 });
    }
    if (path === `/containers/${ID}/stop`) stops++;
    return Response.json({ message: 'page not found' }, { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
const info: ContainerInfo = {
  id: ID,
  name: 'mcp-wrapper',
  image: 'node:22',
  state: 'running',
  labels: {},
  initPid: 4242,
  running: true,
  pidMode: '',
  created: '2026-11-21T06:20:44.669Z',
  startedAt: '2026-11-21T06:20:44.888Z',
  finishedAt: '0001-01-01T00:00:00Z',
  user: '',
};

test("the reap's re-check before a stop: gone, not a stop that failed", async () => {
  const action = await reapContainer(engine, info, Date.parse(info.startedAt), false, { dryRun: false, remove: true });
  expect(action.result).toBe('gone');
  expect(action.error).toBeUndefined();
  expect(stops).toBe(0);
});

test("the reap's facts of a container removed since the listing: gone (null), not an error", async () => {
  expect(await new ReapFactsCache(engine).of(info)).toBeNull();
});
