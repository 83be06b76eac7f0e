// A joiner whose `container:<ref>` names no running container (its namespace's owner was renamed
// since: the engine keeps the name as given) is looked up in the kernel: its init's PID namespace is
// the restarted container's or not. A fake engine on a unix socket lists the containers and answers
// their inspects; a temporary directory stands in for the host's /proc, with each init's ns/pid link.
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartHitsJoiners } from '../../src/act/restart-joiners.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const NS_APP = 'pid:[4026532001]';
const NS_WEB = 'pid:[4026532002]';
// `docker run --name web ...; docker run --name sidecar --pid=container:web ...; docker rename web web-old`
const containers = [
  { id: 'a'.repeat(64), name: 'app', pid: 101, pidMode: '', ns: NS_APP },
  { id: 'b'.repeat(64), name: 'web-old', pid: 202, pidMode: '', ns: NS_WEB },
  { id: 'c'.repeat(64), name: 'sidecar', pid: 303, pidMode: 'container:web', ns: NS_WEB },
];

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
const dir = mkdtempSync(join(tmpdir(), 'pw-restart-joiners-'));
const procRoot = join(dir, 'proc');
for (const c of containers) {
  mkdirSync(join(procRoot, String(c.pid), 'ns'), { recursive: true });
  symlinkSync(c.ns, join(procRoot, String(c.pid), 'ns', 'pid'));
}
const server = Bun.serve({
  unix: join(dir, 'engine.sock'),
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
    if (path === '/containers/json') return Response.json(containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`] })));
    const c = containers.find((x) => path === `/containers/${x.id}/json`);
    if (!c) return new Response('no such container', { status: 404 });
    const base = template as { State: Record<string, unknown>; HostConfig: Record<string, unknown> };
    return Response.json({ ...template, Id: c.id, Name: `/${c.name}`, State: { ...base.State, Pid: c.pid }, HostConfig: { ...base.HostConfig, PidMode: c.pidMode } });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const engine = () => connectEngine(`unix://${join(dir, 'engine.sock')}`, { timeoutMs: 5000, procRoot });
const [app, webOld] = containers as [(typeof containers)[0], (typeof containers)[0]];

test("an unrelated container is restarted although a joiner's container:<name> names nothing since a rename", async () => {
  expect(await restartHitsJoiners(engine(), app, { procRoot, pidNamespace: NS_APP })).toBeNull();
});

test('the renamed owner is not: the kernel shows the joiner in its PID namespace', async () => {
  const why = await restartHitsJoiners(engine(), webOld, { procRoot, pidNamespace: NS_WEB });
  expect(why).toContain('container sidecar shares its PID namespace');
});

test('without a view of the kernel (a remote engine) nobody can tell: the restart is withheld', async () => {
  expect(await restartHitsJoiners(engine(), app, null)).toContain('cannot tell');
});
