// A joiner whose `container:<ref>` names no running container (its namespace's owner was renamed
// since: the engine keeps the name as given) is looked up in the kernel: its init's PID namespace is
// the restarted container's or not, read only while the process at its init PID is shown to be its
// init (a PID reused since the inspect is another process, whose namespace would hide the joiner).
// A fake engine on a unix socket lists the containers and answers their inspects; a temporary
// directory stands in for the host's /proc, with each init's stat (the verbatim line of
// test/fixtures/layout/init-start.json, its start time set), cgroup and ns/pid link.
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartHitsJoiners } from '../../src/act/restart-joiners.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { USER_HZ } from '../../src/observe/boot-time.ts';
import { fixture, fixtureJson } from './helpers/fixtures.ts';

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
const BOOT_TIME_S = Date.parse('2026-11-21T00:00:00Z') / 1000;
/** Forked 0.1 s after the engine created the container (every fake container has the inspect's Created). */
const INIT_TICKS = Math.round(((Date.parse(template['Created'] as string) + 100) / 1000 - BOOT_TIME_S) * USER_HZ);
/** The listing's Created (whole seconds): every fake container was created when the inspect says. */
const CREATED_S = Math.floor(Date.parse(template['Created'] as string) / 1000);
const initStat = (JSON.parse(fixture('layout', 'init-start.json')) as { stat: string }).stat;

/** What runs at a host PID: its namespace, the cgroup path it is in, its start time. */
interface AtPid {
  ns: string;
  cgroup: string;
  startTicks: number;
}

/** A host /proc with one process at each PID. */
function procWith(name: string, at: Map<number, AtPid>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'stat'), `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${BOOT_TIME_S}\n`);
  for (const [pid, p] of at) {
    const fields = initStat.slice(initStat.lastIndexOf(')') + 2).split(' ');
    fields[22 - 3] = String(p.startTicks);
    mkdirSync(join(root, String(pid), 'ns'), { recursive: true });
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (sh) ${fields.join(' ')}\n`);
    writeFileSync(join(root, String(pid), 'cgroup'), `12:pids:${p.cgroup}\n0::${p.cgroup}\n`);
    symlinkSync(p.ns, join(root, String(pid), 'ns', 'pid'));
  }
  return root;
}

const inits = new Map(containers.map((c) => [c.pid, { ns: c.ns, cgroup: `/docker/${c.id}`, startTicks: INIT_TICKS }]));
const procRoot = procWith('proc', inits);
/** The fake engine's answers, from `containers` as they are now. */
function answer(req: Request): Response {
  const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
  if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
  if (path === '/containers/json') return Response.json(containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Created: CREATED_S })));
  const c = containers.find((x) => path === `/containers/${x.id}/json`);
  if (!c) return new Response('no such container', { status: 404 });
  const base = template as { State: Record<string, unknown>; HostConfig: Record<string, unknown> };
  return Response.json({ ...template, Id: c.id, Name: `/${c.name}`, State: { ...base.State, Pid: c.pid }, HostConfig: { ...base.HostConfig, PidMode: c.pidMode } });
}
const server = Bun.serve({ unix: join(dir, 'engine.sock'), fetch: answer });
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
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

// The sidecar's init exited after the inspect and its PID went to another process, in another PID
// namespace: the renamed owner's restart must not take that process's namespace for the sidecar's.
const OTHER_ID = 'd'.repeat(64);
let reuses = 0;
test.each([
  ["another container's process", { ns: NS_APP, cgroup: `/docker/${OTHER_ID}`, startTicks: INIT_TICKS + 360_000 }],
  ['a host process', { ns: 'pid:[4026531836]', cgroup: '/system.slice/cron.service', startTicks: INIT_TICKS + 360_000 }],
  ["a process in the sidecar's cgroup that started an hour after it (not its init)", { ns: 'pid:[4026532003]', cgroup: `/docker/${'c'.repeat(64)}`, startTicks: INIT_TICKS + 360_000 }],
] as const)("the joiner's init PID now held by %s: cannot tell, the restart is withheld", async (name, reused) => {
  const reusedRoot = procWith(`reused-${++reuses}`, new Map([...inits, [303, reused]]));
  const why = await restartHitsJoiners(engine(), webOld, { procRoot: reusedRoot, pidNamespace: NS_WEB });
  expect(why).toContain('cannot tell whether other containers share its PID namespace (sidecar (container:web) names no running container');
});

// `docker rename x web` after the rename of the owner: the sidecar's container:web now names x,
// created before the sidecar started as the real owner was, so the listing alone resolves it to x.
test('another container renamed to the old name takes the ref: the kernel still shows the joiner in the renamed owner\'s namespace, the restart is withheld', async () => {
  const NS_X = 'pid:[4026532004]';
  const x = { id: 'e'.repeat(64), name: 'web', pid: 404, pidMode: '', ns: NS_X };
  containers.push(x);
  try {
    const root = procWith('renamed-to-web', new Map([...inits, [x.pid, { ns: NS_X, cgroup: `/docker/${x.id}`, startTicks: INIT_TICKS }]]));
    // an engine of its own: the listing the other tests' engine gave is reused for 1 s (pidModesNow)
    const second = Bun.serve({ unix: join(dir, 'engine-renamed.sock'), fetch: answer });
    cleanups.push(() => second.stop(true));
    const kernelEngine = connectEngine(`unix://${join(dir, 'engine-renamed.sock')}`, { timeoutMs: 5000, procRoot: root });
    expect(await restartHitsJoiners(kernelEngine, webOld, { procRoot: root, pidNamespace: NS_WEB })).toContain('container sidecar shares its PID namespace');
    // x, which the ref names, is not told apart by the kernel either way: withheld too (more caution, no harm)
    expect(await restartHitsJoiners(kernelEngine, x, { procRoot: root, pidNamespace: NS_X })).toContain('container sidecar shares its PID namespace');
  } finally {
    containers.pop();
  }
});

test('without a view of the kernel (a remote engine) nobody can tell: the restart is withheld', async () => {
  expect(await restartHitsJoiners(engine(), app, null)).toContain('cannot tell');
});

// `podman run --pid=ns:/proc/202/ns/pid`: a container in web-old's namespace whose inspect says
// `ns:<path>`, not `container:`. web-old's restart would kill its processes as it would the sidecar's.
test("a container that joined the owner's namespace by path (ns:<path>) is looked up in the kernel too: the restart is withheld", async () => {
  const byPath = { id: 'f'.repeat(64), name: 'tracer', pid: 505, pidMode: 'ns:/proc/202/ns/pid', ns: NS_WEB };
  containers.push(byPath);
  try {
    const root = procWith('joined-by-path', new Map([...inits, [byPath.pid, { ns: NS_WEB, cgroup: `/machine.slice/libpod-${byPath.id}.scope/container`, startTicks: INIT_TICKS }]]));
    const third = Bun.serve({ unix: join(dir, 'engine-by-path.sock'), fetch: answer });
    cleanups.push(() => third.stop(true));
    const kernelEngine = connectEngine(`unix://${join(dir, 'engine-by-path.sock')}`, { timeoutMs: 5000, procRoot: root });
    expect(await restartHitsJoiners(kernelEngine, webOld, { procRoot: root, pidNamespace: NS_WEB })).toContain('containers sidecar, tracer share its PID namespace');
    // an unrelated container: the kernel shows the tracer elsewhere
    expect(await restartHitsJoiners(kernelEngine, app, { procRoot: root, pidNamespace: NS_APP })).toBeNull();
  } finally {
    containers.pop();
  }
});

/** A fake engine of its own for `stack`: the listing's Created in whole seconds (as the API gives it), the inspect's to the ms. */
function stackEngineOf(sock: string, stack: { id: string; name: string; pidMode: string; created: string; startedAt: string }[]) {
  const base = template as { State: Record<string, unknown>; HostConfig: Record<string, unknown> };
  const stackAnswer = (req: Request): Response => {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
    if (path === '/containers/json') return Response.json(stack.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Created: Math.floor(Date.parse(c.created) / 1000) })));
    const c = stack.find((x) => path === `/containers/${x.id}/json`);
    if (!c) return new Response('no such container', { status: 404 });
    return Response.json({ ...template, Id: c.id, Name: `/${c.name}`, Created: c.created, State: { ...base.State, StartedAt: c.startedAt }, HostConfig: { ...base.HostConfig, PidMode: c.pidMode } });
  };
  const stackServer = Bun.serve({ unix: join(dir, sock), fetch: stackAnswer });
  cleanups.push(() => stackServer.stop(true));
  return connectEngine(`unix://${join(dir, sock)}`, { timeoutMs: 5000, procRoot });
}

// `docker run --name sidecar3 --pid=container:web3; docker rename web3 web3-old; docker run --name
// web3`, the new web3 created 0.6 s after the sidecar started, in the same second. The listing says
// 10:00:00 for it, which read as before the sidecar's 10:00:00.123: the sidecar was taken for the
// new web3's, and web3-old (whose namespace it is in) was restarted through a remote engine.
test('a container created in the second after a joiner started does not take the joiner from the renamed owner: the remote restart is withheld', async () => {
  const stack = [
    { id: '4'.repeat(64), name: 'web3-old', pidMode: '', created: '2026-11-21T09:00:00.000Z', startedAt: '2026-11-21T09:00:00.400Z' },
    { id: '5'.repeat(64), name: 'sidecar3', pidMode: 'container:web3', created: '2026-11-21T09:59:59.900Z', startedAt: '2026-11-21T10:00:00.123Z' },
    { id: '6'.repeat(64), name: 'web3', pidMode: '', created: '2026-11-21T10:00:00.723Z', startedAt: '2026-11-21T10:00:01.100Z' },
  ];
  const stackEngine = stackEngineOf('engine-same-second.sock', stack);
  expect(await restartHitsJoiners(stackEngine, stack[0]!, null)).toContain('cannot tell whether other containers share its PID namespace (sidecar3 (container:web3) names no running container');
});

// compose: `app2` created at 10:00:00.050, its sidecar (pid: service:app2) started at 10:00:00.700,
// within the same second. The listing's Created (whole seconds) cannot order the two; the inspect's
// can, and resolves the sidecar to app2: no other container's restart is withheld for it.
test('a joiner started in the second its owner was created is resolved by the inspect\'s Created, not left unresolved by the listing\'s', async () => {
  const stack = [
    { id: '1'.repeat(64), name: 'app2', pidMode: '', created: '2026-11-21T10:00:00.050Z', startedAt: '2026-11-21T10:00:00.400Z' },
    { id: '2'.repeat(64), name: 'sidecar2', pidMode: 'container:app2', created: '2026-11-21T10:00:00.500Z', startedAt: '2026-11-21T10:00:00.700Z' },
    { id: '3'.repeat(64), name: 'unrelated', pidMode: '', created: '2026-11-21T09:00:00.000Z', startedAt: '2026-11-21T09:00:01.000Z' },
  ];
  const stackEngine = stackEngineOf('engine-stack.sock', stack);
  // no kernel view (a remote engine): the listing and the inspects alone
  expect(await restartHitsJoiners(stackEngine, stack[2]!, null)).toBeNull();
  expect(await restartHitsJoiners(stackEngine, stack[0]!, null)).toContain('container sidecar2 shares its PID namespace');
});
