// An engine upgraded under a running monitor without ever being unreachable to it (systemd's
// docker.socket keeps the socket open through a dockerd restart of a few seconds; a monitor asks
// every 30 s). Docker 29 refuses API versions below 1.44 with a 400, before the handler runs. The
// version agreed with the old engine (1.43, Docker 24) must not fail every later call: the refused
// call is asked again and the next negotiation agrees on the new version. A fake engine on a unix
// socket refuses versioned paths outside its range with moby's words.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../../src/engine/client.ts';
import { ContainerLister, resolveReference } from '../../src/engine/containers.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const ID = 'd'.repeat(64);
const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
/** The engine's range of API versions: Docker 24 before the upgrade, Docker 29 after it. */
let range = { min: '1.12', max: '1.43' };
/** Versions each path was asked with ('' = unversioned). */
const asked: string[] = [];

const newer = (a: string, b: string) => {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am !== bm ? am > bm : an > bn;
};

const dir = mkdtempSync(join(tmpdir(), 'pw-api-upgrade-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  fetch(req) {
    const url = new URL(req.url);
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const version = m?.[1] ?? '';
    const path = m?.[2] ?? url.pathname;
    asked.push(`${version} ${path}`);
    // moby's api/server/middleware/version.go, an InvalidParameter error: 400
    if (version && newer(range.min, version)) {
      return Response.json({ message: `client version ${version} is too old. Minimum supported API version is ${range.min}, please upgrade your client to a newer version` }, { status: 400 });
    }
    if (version && newer(version, range.max)) {
      return Response.json({ message: `client version ${version} is too new. Maximum supported API version is ${range.max}` }, { status: 400 });
    }
    if (path === '/version') return Response.json({ ApiVersion: range.max, MinAPIVersion: range.min });
    if (path === '/containers/json') return Response.json([{ Id: ID, Names: ['/web'], Labels: {}, State: 'running' }]);
    if (path === `/containers/${ID}/json` || path === '/containers/web/json') return Response.json({ ...template, Id: ID, Name: '/web' });
    return Response.json({ message: 'page not found' }, { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test('an engine upgraded to refuse the agreed API version: the next cycle lists, and agrees on the new version', async () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
  const lister = new ContainerLister(engine, { containers: [], labels: [] }, '/nonexistent');
  expect((await lister.list()).map((i) => i.name)).toEqual(['web']);
  expect(engine.apiVersion).toBe('1.43');

  range = { min: '1.44', max: '1.51' }; // dockerd restarted as Docker 29 between two cycles
  asked.length = 0;
  expect((await lister.list()).map((i) => i.name)).toEqual(['web']);
  expect(asked).toContain('1.43 /containers/json'); // refused, then asked again
  expect((await lister.list()).map((i) => i.name)).toEqual(['web']);
  expect(engine.apiVersion).toBe('1.51');
});

test('through dockerode too (exec, stats, inspect by name): its paths lose the refused version with the rest', async () => {
  range = { min: '1.12', max: '1.43' };
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
  const lister = new ContainerLister(engine, { containers: [], labels: [] }, '/nonexistent');
  await lister.list();
  expect((await resolveReference(engine, 'web')).info.id).toBe(ID); // dockerode's client, pinned to 1.43

  range = { min: '1.44', max: '1.51' };
  // before: "container web: client version 1.43 is too old", a UsageError (exit 2) for a container that exists
  expect((await resolveReference(engine, 'web')).info.id).toBe(ID);
  await lister.list();
  asked.length = 0;
  expect((await resolveReference(engine, 'web')).info.id).toBe(ID);
  expect(asked).toEqual(['1.51 /containers/web/json']);
});
