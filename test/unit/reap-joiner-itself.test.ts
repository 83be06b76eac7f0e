// Reap refuses to stop a container that others join: its init is PID 1 of the namespace, and when
// it dies the kernel SIGKILLs every process there. A container that itself joined another's PID
// namespace (--pid=container:X, a Podman pod's member: `container:<infra ID>`) owns no namespace:
// its stop ends its own processes only, however many others joined X too. With a local engine the
// joiner check asks the kernel about every container that joins another, and two joiners of X are
// in the same namespace; the stop of one of them must not be refused for the other.
// A fake engine on a unix socket lists the owner and two joiners; a temporary directory stands in
// for the host's /proc, with each init's stat (the verbatim line of
// test/fixtures/layout/init-start.json, its start time set), cgroup and ns/pid link.
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapContainer } from '../../src/act/reap.ts';
import { restartHitsJoiners } from '../../src/act/restart-joiners.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { inspectById } from '../../src/engine/containers.ts';
import { USER_HZ } from '../../src/observe/boot-time.ts';
import { fixture, fixtureJson } from './helpers/fixtures.ts';

const NS_X = 'pid:[4026532101]';
const X = 'a'.repeat(64);
// `podman pod create --share pid,...`: the infra container holds the namespace, the members join it
const containers = [
  { id: X, name: 'pod-infra', pid: 101, pidMode: '' },
  { id: 'b'.repeat(64), name: 'mcp-wrapper-1', pid: 202, pidMode: `container:${X}` },
  { id: 'c'.repeat(64), name: 'mcp-wrapper-2', pid: 303, pidMode: `container:${X}` },
];

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
const dir = mkdtempSync(join(tmpdir(), 'pw-reap-joiner-itself-'));
const BOOT_TIME_S = Date.parse('2026-11-21T00:00:00Z') / 1000;
const INIT_TICKS = Math.round(((Date.parse(template['Created'] as string) + 100) / 1000 - BOOT_TIME_S) * USER_HZ);
const CREATED_S = Math.floor(Date.parse(template['Created'] as string) / 1000);
const initStat = (JSON.parse(fixture('layout', 'init-start.json')) as { stat: string }).stat;

const procRoot = join(dir, 'proc');
mkdirSync(procRoot, { recursive: true });
writeFileSync(join(procRoot, 'stat'), `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${BOOT_TIME_S}\n`);
for (const c of containers) {
  const fields = initStat.slice(initStat.lastIndexOf(')') + 2).split(' ');
  fields[22 - 3] = String(INIT_TICKS);
  mkdirSync(join(procRoot, String(c.pid), 'ns'), { recursive: true });
  writeFileSync(join(procRoot, String(c.pid), 'stat'), `${c.pid} (sh) ${fields.join(' ')}\n`);
  writeFileSync(join(procRoot, String(c.pid), 'cgroup'), `0::/machine.slice/libpod-${c.id}.scope/container\n`);
  symlinkSync(NS_X, join(procRoot, String(c.pid), 'ns', 'pid'));
}

const posts: string[] = [];
const server = Bun.serve({
  unix: join(dir, 'engine.sock'),
  fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (req.method === 'POST') {
      posts.push(path);
      return new Response(null, { status: 204 });
    }
    if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '4.3.1' });
    if (path === '/containers/json') {
      const paused = new URL(req.url).searchParams.get('filters')?.includes('paused') === true;
      return Response.json(paused ? [] : containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Created: CREATED_S })));
    }
    const c = containers.find((x) => path === `/containers/${x.id}/json`);
    if (!c) return Response.json({ message: 'no such container' }, { status: 404 });
    const base = template as { State: Record<string, unknown>; HostConfig: Record<string, unknown> };
    return Response.json({ ...template, Id: c.id, Name: `/${c.name}`, State: { ...base.State, Pid: c.pid }, HostConfig: { ...base.HostConfig, PidMode: c.pidMode } });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const engine = connectEngine(`unix://${join(dir, 'engine.sock')}`, { timeoutMs: 5000, procRoot });

test("a pod member (container:<infra>) is stopped although another member shares the pod's namespace: its stop ends no namespace", async () => {
  const member = (await inspectById(engine, containers[1]!.id))!;
  posts.length = 0;
  const a = await reapContainer(engine, member, Date.parse(member.startedAt), false, { dryRun: false, remove: false, stopTimeoutSeconds: 10, procRoot });
  expect(a.error).toBeUndefined();
  expect(a.result).toBe('stopped');
  expect(posts).toEqual([`/containers/${member.id}/stop`]);
});

test('the dry run says the same: dry-run, not refused', async () => {
  const member = (await inspectById(engine, containers[2]!.id))!;
  const a = await reapContainer(engine, member, Date.parse(member.startedAt), false, { dryRun: true, remove: false, stopTimeoutSeconds: 10, procRoot });
  expect(a.result).toBe('dry-run');
});

test("the pod's infra container, whose namespace the members share, is still refused", async () => {
  const infra = (await inspectById(engine, X))!;
  posts.length = 0;
  const a = await reapContainer(engine, infra, Date.parse(infra.startedAt), false, { dryRun: false, remove: false, stopTimeoutSeconds: 10, procRoot });
  expect(a.result).toBe('refused');
  expect(a.error).toContain('containers mcp-wrapper-1, mcp-wrapper-2 share its PID namespace');
  expect(posts).toEqual([]);
});

// The ladder's restart asks the same question (src/act/restart-joiners.ts): a pod member's restart
// ends its own processes only, and was withheld for its fellow member, so a storm in one member of
// a pod could be killed tree by tree but never restarted.
test("a restart of a pod member is not withheld for the other member; the infra's still is", async () => {
  const member = (await inspectById(engine, containers[1]!.id))!;
  expect(await restartHitsJoiners(engine, member, { procRoot, pidNamespace: NS_X })).toBeNull();
  expect(await restartHitsJoiners(engine, member, null)).toBeNull();
  const infra = (await inspectById(engine, X))!;
  expect(await restartHitsJoiners(engine, infra, { procRoot, pidNamespace: NS_X })).toContain('containers mcp-wrapper-1, mcp-wrapper-2 share its PID namespace');
});
