// An engine that answers, but not with what the API defines: a proxy's HTML page, an empty body,
// a null inspect, or Podman's 500 for a container removed between its lookup and its inspect (a
// flood of short-lived MCP wrappers). A fake engine on a unix socket gives each answer; the audit's
// listing must end in a typed engine error (exit 3, the engine's words), or, for the removed
// container, list the others. Before, each ended in exit 70, "internal error: a bug in pidwarden".
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../../src/engine/client.ts';
import { selectContainers } from '../../src/engine/containers.ts';
import { exitCodeFor } from '../../src/errors.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const KEPT = 'a'.repeat(64);
const REMOVED = 'b'.repeat(64);
let answer: 'html' | 'empty' | 'null-list' | 'null-inspect' | 'removed-midway' = 'html';

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
const dir = mkdtempSync(join(tmpdir(), 'pw-engine-answers-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
    if (path === '/containers/json') {
      if (answer === 'html') return new Response('<html><body>502 Bad Gateway</body></html>', { status: 502, headers: { 'content-type': 'text/html' } });
      if (answer === 'empty') return new Response('', { status: 200 });
      if (answer === 'null-list') return Response.json(null);
      return Response.json([{ Id: KEPT }, { Id: REMOVED }]);
    }
    if (path === `/containers/${KEPT}/json`) return Response.json(answer === 'null-inspect' ? null : { ...template, Id: KEPT, Name: '/kept' });
    if (path === `/containers/${REMOVED}/json`) {
      return Response.json({ cause: 'no such container', message: `no container with ID ${REMOVED} found in database: no such container`, response: 500 }, { status: 500 });
    }
    return new Response('not found', { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const engine = () => connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/proc' });
const listing = () => selectContainers(engine(), { containers: [], labels: [] });

test.each(['html', 'empty', 'null-list', 'null-inspect'] as const)('a %s answer is an engine error (exit 3) in one line, not a bug', async (kind) => {
  answer = kind;
  const error = await listing().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect(exitCodeFor(error)).toBe(3);
  expect((error as Error).message).not.toContain('\n');
});

test("Podman's 500 'no such container' for a container removed after the listing: one fewer, not a failure", async () => {
  answer = 'removed-midway';
  const infos = await listing();
  expect(infos.map((i) => i.name)).toEqual(['kept']);
});
