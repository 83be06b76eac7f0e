// One container on a fake local host, for the tests that run cleanup's ladder to a restart: an
// engine on a unix socket (version, listing, inspect, restart, stop) and a directory that stands in
// for the host's /proc and cgroup fs, read through --proc-root and --cgroup-root as a real host's
// are (the host route: no exec). The inspect is the real one in test/fixtures/engine/inspect.json
// with this container's ID, name, State and StopTimeout; the stat lines follow the verbatim one in
// test/fixtures/layout/init-start.json. A test says what the engine does on a restart.
import { afterEach } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../../src/cli/settings.ts';
import { runCleanup } from '../../../src/commands/cleanup.ts';
import { connectEngine, type Engine } from '../../../src/engine/client.ts';
import { USER_HZ } from '../../../src/observe/boot-time.ts';
import { fixture, fixtureJson } from './fixtures.ts';

export const FAKE_ID = 'f00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dface';
export const FAKE_NAME = 'mcp-hub';
/** The host's boot, as /proc/stat's btime says it (seconds since the epoch). */
const BOOT_TIME_S = Date.parse('2026-11-21T00:00:00Z') / 1000;
const PID_NAMESPACE = 'pid:[4026532001]';

/** One run of the container: its init's host PID, when the engine started it, how many processes it runs. */
export interface FakeRun {
  initPid: number;
  startedAt: string;
  processes: number;
}

export interface FakeHost {
  engine: Engine;
  procRoot: string;
  cgroupRoot: string;
  /** Requests in order, as "METHOD path" without the API version. */
  asked: string[];
  /** The query of each restart asked ("t=7"; "" without one). */
  restartQueries: string[];
  /** State of the next inspect answers. */
  state: Record<string, unknown>;
  /** What an inspect answers as State; by default `state`. */
  stateNow: () => Record<string, unknown>;
  /** Called before the engine answers a restart: change `state` and the host's view here. */
  onRestart: () => void;
  /** Inspects asked since the last restart (this one included, inside stateNow). */
  inspectsSinceRestart: number;
  /** Answers a request in the engine's place when it returns a response (an error, or hang()); undefined: the engine answers. */
  intercept: (method: string, path: string) => Response | Promise<Response> | undefined;
  /** An answer that never comes while the test runs (a stuck engine): released with a 503 at stop(). */
  hang(): Promise<Response>;
  /** Puts a run of the container on the host: its processes in /proc and its cgroup. */
  run(r: FakeRun): void;
  /** The flags that point pidwarden at this host: host route, its /proc and cgroup fs, a log file and a state file of its own. */
  hostFlags: Record<string, unknown>;
  /** pidwarden's JSONL log so far, one object a line. */
  logLines(): Record<string, unknown>[];
  stop(): void;
}

/** Cleanup's ladder straight to a restart: every container, unhealthy above 3 processes, no kill step. */
export const RESTART_ONLY = { all: true, 'max-procs': 3, steps: 'restart', restart: 'always' };

/** `pidwarden cleanup` with these flags on this host: its exit code, stderr and log lines. */
export async function cleanupOn(h: FakeHost, flags: Record<string, unknown>): Promise<{ code: number; stderr: string; lines: Record<string, unknown>[] }> {
  const settings = resolveSettings('cleanup', { ...h.hostFlags, ...flags }, {}, {});
  let stderr = '';
  const code = await runCleanup({ settings, engine: h.engine, io: { out: () => {}, err: (t) => void (stderr += t) }, timeoutMs: 5000 });
  return { code, stderr, lines: h.logLines() };
}

/** One fake host per test at most: the one started last is stopped (its directory removed) after each test. */
export function fakeHostPerTest(): (first: FakeRun, opts?: { stopTimeout?: number; timeoutMs?: number }) => FakeHost {
  let current: FakeHost | null = null;
  afterEach(() => {
    current?.stop();
    current = null;
  });
  return (first, opts) => (current = startFakeHost(first, opts));
}

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
const initStat = JSON.parse(fixture('layout', 'init-start.json')) as { stat: string };

/** A verbatim stat line with this process's PID, parent, comm and start time. */
function statLine(pid: number, ppid: number, comm: string, startTicks: number): string {
  const fields = initStat.stat.slice(initStat.stat.lastIndexOf(')') + 2).split(' ');
  fields[0] = 'S';
  fields[4 - 3] = String(ppid);
  fields[22 - 3] = String(startTicks);
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

export function running(r: FakeRun): Record<string, unknown> {
  return { ...(template['State'] as object), Status: 'running', Running: true, Restarting: false, Pid: r.initPid, ExitCode: 0, StartedAt: r.startedAt };
}

/** stopTimeout: the container's Config.StopTimeout; timeoutMs: the engine's --timeout (5 s by default). */
export function startFakeHost(first: FakeRun, opts: { stopTimeout?: number; timeoutMs?: number } = {}): FakeHost {
  const dir = mkdtempSync(join(tmpdir(), 'pw-fake-host-'));
  const procRoot = join(dir, 'proc');
  const cgroupRoot = join(dir, 'cgroup');
  const cgroupDir = join(cgroupRoot, 'docker', FAKE_ID);
  mkdirSync(join(procRoot, String(process.pid)), { recursive: true });
  // --proc-root's PID numbers must be ours (src/observe/proc-root.ts): its `self` resolves to our PID
  symlinkSync(join(procRoot, String(process.pid)), join(procRoot, 'self'));
  writeFileSync(join(procRoot, 'stat'), `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${BOOT_TIME_S}\n`);
  mkdirSync(cgroupDir, { recursive: true });
  let written: number[] = [];
  const hanging: (() => void)[] = [];

  const host: FakeHost = {
    engine: undefined as unknown as Engine,
    procRoot,
    cgroupRoot,
    asked: [],
    restartQueries: [],
    state: running(first),
    stateNow: () => host.state,
    onRestart: () => {},
    inspectsSinceRestart: 0,
    intercept: () => undefined,
    hang: () => new Promise((resolve) => hanging.push(() => resolve(new Response(null, { status: 503 })))),
    hostFlags: {},
    logLines: () => [],
    run(r) {
      for (const pid of written) rmSync(join(procRoot, String(pid)), { recursive: true, force: true });
      // forked half a second before the engine recorded the start, as runc create/start do
      const initTicks = Math.round(((Date.parse(r.startedAt) - 500) / 1000 - BOOT_TIME_S) * USER_HZ);
      written = Array.from({ length: r.processes }, (_, i) => r.initPid + i);
      for (const [i, pid] of written.entries()) {
        const base = join(procRoot, String(pid));
        const argv = i === 0 ? ['node', 'dist/index.js'] : ['npm exec @21st-dev/magic@latest'];
        mkdirSync(join(base, 'ns'), { recursive: true });
        writeFileSync(join(base, 'stat'), statLine(pid, i === 0 ? 1 : r.initPid, i === 0 ? 'node' : 'npm exec @21st-', initTicks + i));
        writeFileSync(join(base, 'status'), `Name:\tnode\nState:\tS (sleeping)\nPPid:\t${i === 0 ? 1 : r.initPid}\nNSpid:\t${pid}\t${i + 1}\n`);
        writeFileSync(join(base, 'cmdline'), argv.join('\0') + '\0');
        writeFileSync(join(base, 'cgroup'), `0::/docker/${FAKE_ID}\n`);
        symlinkSync(PID_NAMESPACE, join(base, 'ns', 'pid'));
      }
      writeFileSync(join(cgroupDir, 'cgroup.procs'), written.map((p) => `${p}\n`).join(''));
      writeFileSync(join(cgroupDir, 'pids.current'), `${r.processes}\n`);
      writeFileSync(join(cgroupDir, 'pids.max'), 'max\n');
    },
    stop: () => {},
  };
  host.run(first);

  const inspect = () => ({
    ...template,
    Id: FAKE_ID,
    Name: `/${FAKE_NAME}`,
    State: host.stateNow(),
    Config: { ...(template['Config'] as object), Labels: {}, ...(opts.stopTimeout === undefined ? {} : { StopTimeout: opts.stopTimeout }) },
    HostConfig: { ...(template['HostConfig'] as object), PidMode: '' },
  });
  const server = Bun.serve({
    unix: join(dir, 'engine.sock'),
    fetch(req) {
      const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
      host.asked.push(`${req.method} ${path}`);
      const instead = host.intercept(req.method, path);
      if (instead !== undefined) return instead;
      if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
      if (path === '/containers/json') return Response.json([{ Id: FAKE_ID, Names: [`/${FAKE_NAME}`], Labels: {}, State: 'running' }]);
      if (req.method === 'GET' && path === `/containers/${FAKE_ID}/json`) {
        host.inspectsSinceRestart++;
        return Response.json(inspect());
      }
      if (req.method === 'POST' && (path === `/containers/${FAKE_ID}/restart` || path === `/containers/${FAKE_ID}/stop`)) {
        if (path.endsWith('/restart')) {
          host.restartQueries.push(new URL(req.url).search.slice(1));
          host.onRestart();
          host.inspectsSinceRestart = 0;
        }
        return new Response(null, { status: 204 });
      }
      return Response.json({ message: `page not found: ${path}` }, { status: 404 });
    },
  });
  const logFile = join(dir, 'log.jsonl');
  host.hostFlags = { 'proc-source': 'host', 'proc-root': procRoot, 'cgroup-root': cgroupRoot, 'log-file': logFile, 'state-file': join(dir, 'state.json') };
  host.logLines = () => readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  host.engine = connectEngine(`unix://${join(dir, 'engine.sock')}`, { timeoutMs: opts.timeoutMs ?? 5000, procRoot });
  host.stop = () => {
    for (const release of hanging.splice(0)) release();
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  };
  return host;
}
