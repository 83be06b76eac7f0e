// An exec the engine creates only after --timeout is never started: nothing runs in the container
// for a caller that gave up (a `ps` stuck in a container at its pids limit holds one of its few
// free PIDs; a late `kill` lands after the ladder moved on). A fake engine on a unix socket answers
// the exec create only once the caller has given up, and records whether a start follows.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../../src/engine/client.ts';
import { execInContainer } from '../../src/engine/exec.ts';

const TIMEOUT_MS = 200;
/** How long after the create's answer a start would have come: immediately, in practice (ms). */
const START_WINDOW_MS = 1500;
const ID = 'b'.repeat(64);

const dir = mkdtempSync(join(tmpdir(), 'pw-execlate-'));
const socket = join(dir, 'engine.sock');
let createdAt: number | null = null;
let started = false;
/** Resolved when execInContainer has rejected at its deadline: the engine's slow create answers then. */
let gaveUp!: () => void;
const callerGaveUp = new Promise<void>((resolve) => (gaveUp = resolve));
const server = Bun.serve({
  unix: socket,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method === 'POST' && path.endsWith(`/containers/${ID}/exec`)) {
      await callerGaveUp; // a slow engine: it answers after the client's deadline, whatever the load
      createdAt = performance.now();
      return Response.json({ Id: 'e1' }, { status: 201 });
    }
    if (req.method === 'POST' && path.endsWith('/exec/e1/start')) {
      started = true;
      return new Response('', { status: 200 });
    }
    return Response.json({ message: 'not found' }, { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test('created after the deadline: the exec is never started', async () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
  await expect(execInContainer(engine.docker, ID, ['ps'], { timeoutMs: TIMEOUT_MS })).rejects.toThrow('timed out after');
  gaveUp();
  // the create is answered after the caller gave up; a start would follow it at once
  const deadline = performance.now() + 10_000;
  while (createdAt === null && performance.now() < deadline) await Bun.sleep(20);
  expect(createdAt).not.toBeNull();
  while (!started && performance.now() < createdAt! + START_WINDOW_MS) await Bun.sleep(20);
  expect(started).toBe(false);
});
