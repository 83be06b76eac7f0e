// A paused container that joined X's PID namespace still has processes in it: X's restart kills
// them (the kernel SIGKILLs a namespace's processes when its init dies), and X's `ps` and `kill N`
// reach them. Docker's default listing has it (moby's list keeps every container whose
// State.Running is true, a paused one included); Podman's does not: its compat ListContainers
// adds a `status=running` filter when neither `all` nor a status filter is given, and a paused
// container's state is `paused` (Podman 4.3.1 to 5.8,
// https://github.com/containers/podman/blob/main/pkg/api/handlers/compat/containers.go,
// ListContainers; pkg/domain/filters/containers.go, the "status" filter). So on Podman a paused
// joiner was not seen and X was restarted, or observed through the API as if alone. The fake
// engine below lists as Podman's compat handler does.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartHitsJoiners } from '../../src/act/restart-joiners.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { pidNamespaceJoiners } from '../../src/engine/pid-joiners.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
const base = template as { State: Record<string, unknown>; HostConfig: Record<string, unknown> };

// `podman run -d --name web ...; podman run -d --name tracer --pid container:web ...; podman pause tracer`
const web = { id: '7'.repeat(64), name: 'web', state: 'running', pidMode: 'private' };
const tracer = { id: '8'.repeat(64), name: 'tracer', state: 'paused', pidMode: `container:${'7'.repeat(64)}` };
const old = { id: '9'.repeat(64), name: 'old', state: 'exited', pidMode: `container:${'7'.repeat(64)}` };
const containers = [web, tracer, old];

/** Podman's compat ListContainers: a status filter lists every container in those states; without one (and without all), running ones only. */
function podmanList(url: URL): unknown[] {
  const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { status?: string[] };
  const all = url.searchParams.get('all') === 'true' || url.searchParams.get('all') === '1';
  const states = filters.status && filters.status.length > 0 ? filters.status : all ? null : ['running'];
  return containers
    .filter((c) => states === null || states.includes(c.state))
    .map((c) => ({ Id: c.id, Names: [`/${c.name}`], State: c.state, Created: Math.floor(Date.parse(template['Created'] as string) / 1000) }));
}

function answer(req: Request): Response {
  const url = new URL(req.url);
  const path = url.pathname.replace(/^\/v[\d.]+/, '');
  if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '4.3.1' });
  if (path === '/containers/json') return Response.json(podmanList(url));
  const c = containers.find((x) => path === `/containers/${x.id}/json`);
  if (!c) return Response.json({ cause: 'no such container', message: 'no such container', response: 404 }, { status: 404 });
  const paused = c.state === 'paused';
  const running = c.state === 'running' || paused;
  return Response.json({
    ...template,
    Id: c.id,
    Name: `/${c.name}`,
    State: { ...base.State, Status: c.state, Running: running, Paused: paused, Pid: running ? 4100 : 0 },
    HostConfig: { ...base.HostConfig, PidMode: c.pidMode },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pw-joiners-paused-'));
const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(() => {
  for (const s of servers) s.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** An engine of its own per test: a listing is reused for 1 s per address (pidModesNow). */
function engine(name: string) {
  servers.push(Bun.serve({ unix: join(dir, `${name}.sock`), fetch: answer }));
  return connectEngine(`unix://${join(dir, `${name}.sock`)}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
}

test("a paused container in web's PID namespace withholds web's restart on Podman", async () => {
  expect(await restartHitsJoiners(engine('restart'), web, null)).toBe('container tracer shares its PID namespace: a restart would kill their processes too');
});

test("a paused joiner is one of web's joiners: web's ps would list its processes", async () => {
  expect(await pidNamespaceJoiners(engine('joiners'), web)).toEqual(['tracer']);
});
