// A fake engine on a unix socket for the selection tests: /version, the container list (with each
// engine's label filter) and inspect, resolving a reference the way Docker's daemon does (full ID, then exact name, then an
// ID prefix of any length; two IDs sharing the prefix: an error). The containers are made from
// the real inspect in test/fixtures/engine/inspect.json with their own ID, name and labels.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../../src/engine/client.ts';
import { fixtureJson } from './fixtures.ts';

export interface FakeContainer {
  id: string;
  /** Without the leading slash. */
  name: string;
  labels?: Record<string, string>;
  /** State.Pid, the init's host PID: the fixture's (6747) when not given. */
  initPid?: number;
  /** State.StartedAt: the fixture's (2026-11-21T06:20:44.888934049Z) when not given. */
  startedAt?: string;
}

/**
 * A /proc/stat btime for the fixture's start: its init, 129760 ticks (1297.6 s) after this boot,
 * was forked at 06:20:44.6, where the start window (src/observe/layout.ts, startMatches) puts the
 * fork of a container created at 06:20:44.669 and started at 06:20:44.889, the fixture's times.
 */
export const FIXTURE_BOOT_TIME_S = Date.parse('2026-11-21T05:59:07Z') / 1000;
/** The start time (ticks since FIXTURE_BOOT_TIME_S) of the fixture's init. */
export const FIXTURE_INIT_TICKS = 129_760;

/** A /proc/stat in a /proc laid out in a temp dir, for the processes there to be dated against FIXTURE_BOOT_TIME_S. */
export function writeFixtureBootTime(procRoot: string): void {
  writeFileSync(join(procRoot, 'stat'), `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${FIXTURE_BOOT_TIME_S}\n`);
}

/**
 * Each engine's `label` list filter. moby (filters.Args.MatchKVList): KEY is there, and KEY=VALUE
 * has exactly that value, an empty one included. Podman (pkg/util MatchLabelFilters, the compat API
 * too): an empty VALUE matches any value (its `*` patterns over the keys are not emulated here).
 */
const LABEL_FILTER = {
  docker: (want: string, labels: Record<string, string>) => {
    const eq = want.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, want);
    return Object.hasOwn(labels, want.slice(0, eq)) && labels[want.slice(0, eq)] === want.slice(eq + 1);
  },
  podman: (want: string, labels: Record<string, string>) => {
    const eq = want.indexOf('=');
    const key = eq < 0 ? want : want.slice(0, eq);
    const value = eq < 0 ? '' : want.slice(eq + 1);
    return Object.hasOwn(labels, key) && (value === '' || labels[key] === value);
  },
};

/** The error each engine answers for an ID prefix that several containers share (status, message). */
const AMBIGUOUS = {
  // moby's container view: InvalidParameter, HTTP 400 (older daemons: "Multiple IDs ...", a 500)
  docker: (ref: string) => [400, `multiple IDs found with provided prefix: ${ref}`] as const,
  // Podman: its state's LookupContainerID (SQLite and BoltDB alike), a 500 from the compat API
  podman: (ref: string) => [500, `more than one result for container "${ref}": container already exists`] as const,
};

export interface FakeEngine {
  engine: Engine;
  /** What the engine holds now: change it between calls (a rename, a new container). */
  containers: FakeContainer[];
  /** Paths asked, in order (without the API version). */
  asked: string[];
  /** Called with each path asked, before it is answered: a change the engine makes between two calls. */
  onAsk?: (path: string) => void;
  stop(): void;
}

export function startFakeEngine(containers: FakeContainer[], flavour: keyof typeof AMBIGUOUS = 'docker'): FakeEngine {
  const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
  const dir = mkdtempSync(join(tmpdir(), 'pw-fake-engine-'));
  const socket = join(dir, 'engine.sock');
  const fake: FakeEngine = { engine: undefined as unknown as Engine, containers, asked: [], stop: () => {} };
  const inspectOf = (c: FakeContainer) => ({
    ...template,
    Id: c.id,
    Name: `/${c.name}`,
    Config: { ...(template['Config'] as object), Labels: c.labels ?? {} },
    State: { ...(template['State'] as object), ...(c.initPid === undefined ? {} : { Pid: c.initPid }), ...(c.startedAt === undefined ? {} : { StartedAt: c.startedAt }) },
  });
  const server = Bun.serve({
    unix: socket,
    fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname.replace(/^\/v[\d.]+/, '');
      fake.asked.push(path);
      fake.onAsk?.(path);
      if (path === '/version') return Response.json({ ApiVersion: '1.41' });
      if (path === '/containers/json') {
        const wanted = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] }).label ?? [];
        const listed = fake.containers.filter((c) => wanted.every((w) => LABEL_FILTER[flavour](w, c.labels ?? {})));
        return Response.json(listed.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Labels: c.labels ?? {}, State: 'running' })));
      }
      const m = /^\/containers\/([^/]+)\/json$/.exec(path);
      if (!m) return Response.json({ message: 'page not found' }, { status: 404 });
      const ref = decodeURIComponent(m[1]!);
      const exact = fake.containers.find((c) => c.id === ref) ?? fake.containers.find((c) => c.name === ref);
      if (exact) return Response.json(inspectOf(exact));
      const byPrefix = fake.containers.filter((c) => c.id.startsWith(ref));
      if (byPrefix.length > 1) {
        const [status, message] = AMBIGUOUS[flavour](ref);
        return Response.json({ message }, { status });
      }
      if (byPrefix.length === 1) return Response.json(inspectOf(byPrefix[0]!));
      return Response.json({ message: `No such container: ${ref}` }, { status: 404 });
    },
  });
  fake.engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
  fake.stop = () => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  };
  return fake;
}
