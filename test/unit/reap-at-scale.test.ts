// Reap on a host flooded with containers, against an engine on a unix socket that counts the
// inspects it is answering at once: the selection, the joiner check's first listing and reap's own
// inspects each went to every container at the same time (60 listed: 60 in flight), where the
// audit keeps to --concurrency. And an engine lost in the middle of a pass is the pass's failure
// (exit 3), not a refusal or a failed stop of each container that was left.
import { afterEach, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { Reaper } from '../../src/commands/reap-pass.ts';
import { runReap } from '../../src/commands/reap.ts';
import { connectEngine, type Engine } from '../../src/engine/client.ts';
import { selectContainers } from '../../src/engine/containers.ts';
import { INSPECTS_AT_ONCE } from '../../src/engine/listing.ts';
import { pidNamespaceJoiners } from '../../src/engine/pid-joiners.ts';
import { EngineUnreachableError } from '../../src/errors.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const template = fixtureJson<Record<string, unknown>>('engine', 'inspect.json');
/** The fixture's start; the fake host booted the same day, before it. */
const STARTED_AT = '2026-11-21T06:20:44.888934049Z';
const BOOT_TIME_S = Date.parse('2026-11-21T00:00:00Z') / 1000;

interface Flood {
  engine: Engine;
  dir: string;
  /** Requests in order, "METHOD path" without the API version. */
  asked: string[];
  /** The most inspects the engine was answering at one time. */
  mostInspectsAtOnce: number;
  /** Called with each request; `lose()` ends the engine there (every connection reset, none accepted after). */
  onAsk: (method: string, path: string, lose: () => void) => void;
  flags: Record<string, unknown>;
  logLines(): Record<string, unknown>[];
}

let stopCurrent: (() => void) | null = null;
afterEach(() => {
  stopCurrent?.();
  stopCurrent = null;
});

function flood(count: number): Flood {
  const dir = mkdtempSync(join(tmpdir(), 'pw-reap-scale-'));
  const procRoot = join(dir, 'proc');
  mkdirSync(join(procRoot, String(process.pid)), { recursive: true });
  symlinkSync(join(procRoot, String(process.pid)), join(procRoot, 'self'));
  writeFileSync(join(procRoot, 'stat'), `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${BOOT_TIME_S}\n`);
  const ids = Array.from({ length: count }, (_, i) => (i + 1).toString(16).padStart(4, '0').repeat(16));
  const nameOf = (id: string) => `mcp-wrapper-${ids.indexOf(id) + 1}`;
  let inFlight = 0;
  const f: Flood = {
    engine: undefined as unknown as Engine,
    dir,
    asked: [],
    mostInspectsAtOnce: 0,
    onAsk: () => {},
    flags: {},
    logLines: () => readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
  let lost = false;
  const server = Bun.serve({
    unix: join(dir, 'engine.sock'),
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname.replace(/^\/v[\d.]+/, '');
      f.asked.push(`${req.method} ${path}`);
      f.onAsk(req.method, path, () => {
        lost = true;
        // after this answer is on its way: every connection is then reset
        queueMicrotask(() => server.stop(true));
      });
      if (lost) return new Promise<Response>(() => {});
      if (path === '/version') return Response.json({ ApiVersion: '1.41', Version: '20.10.24' });
      if (path === '/containers/json') {
        const paused = url.searchParams.get('filters')?.includes('paused') === true;
        return Response.json(paused ? [] : ids.map((id) => ({ Id: id, Names: [`/${nameOf(id)}`], Labels: {}, State: 'running', Image: 'mcp/postgres', Created: 1763705044 })));
      }
      const inspected = /^\/containers\/([0-9a-f]{64})\/json$/.exec(path);
      if (req.method === 'GET' && inspected) {
        inFlight++;
        f.mostInspectsAtOnce = Math.max(f.mostInspectsAtOnce, inFlight);
        // answered on a later turn, so that inspects sent together are in flight together
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        const id = inspected[1]!;
        return Response.json({
          ...template,
          Id: id,
          Name: `/${nameOf(id)}`,
          State: { ...(template['State'] as object), Status: 'running', Running: true, Restarting: false, Pid: 7000 + ids.indexOf(id), StartedAt: STARTED_AT },
          Config: { ...(template['Config'] as object), Labels: {} },
          HostConfig: { ...(template['HostConfig'] as object), PidMode: '', AutoRemove: false },
        });
      }
      if (req.method === 'POST' && /^\/containers\/[0-9a-f]{64}\/stop$/.test(path)) return new Response(null, { status: 204 });
      return Response.json({ message: `page not found: ${path}` }, { status: 404 });
    },
  });
  f.engine = connectEngine(`unix://${join(dir, 'engine.sock')}`, { timeoutMs: 5000, procRoot });
  f.flags = { all: true, 'max-age': '1h', 'proc-root': procRoot, 'log-file': join(dir, 'log.jsonl'), 'state-file': join(dir, 'state.json') };
  stopCurrent = () => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  };
  return f;
}

async function reap(f: Flood, flags: Record<string, unknown> = {}): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runReap({ settings: resolveSettings('reap', { ...f.flags, ...flags }, {}, {}), engine: f.engine, io: { out: () => {}, err: (t) => void (stderr += t) }, timeoutMs: 5000 });
  return { code, stderr };
}

test(`the selection inspects ${INSPECTS_AT_ONCE} containers at a time, not all 60 listed`, async () => {
  const f = flood(60);
  const infos = await selectContainers(f.engine, { containers: [], labels: [] });
  expect(infos).toHaveLength(60);
  expect(f.mostInspectsAtOnce).toBeLessThanOrEqual(INSPECTS_AT_ONCE);
});

test(`the joiner check's first listing inspects ${INSPECTS_AT_ONCE} at a time`, async () => {
  const f = flood(60);
  expect(await pidNamespaceJoiners(f.engine, { id: '0001'.repeat(16), name: 'mcp-wrapper-1' })).toEqual([]);
  expect(f.asked.filter((a) => a.startsWith('GET /containers/') && a !== 'GET /containers/json')).toHaveLength(60);
  expect(f.mostInspectsAtOnce).toBeLessThanOrEqual(INSPECTS_AT_ONCE);
});

test('reap takes --concurrency: its own inspects of 60 containers, 3 at a time', async () => {
  const f = flood(60);
  const s = resolveSettings('reap', { ...f.flags, concurrency: 3 }, {}, {});
  const infos = await selectContainers(f.engine, { containers: [], labels: [] });
  f.mostInspectsAtOnce = 0;
  const { plan } = await new Reaper(f.engine, s, null).plan(infos, false);
  expect(plan.stop).toHaveLength(60); // all started on 2026-11-21: past --max-age 1h
  expect(f.mostInspectsAtOnce).toBeLessThanOrEqual(3);
});

test('reap --dry-run with the engine lost at the joiner check: exit 3 (the engine), not "NOT STOPPED" for each', async () => {
  const f = flood(1);
  let listings = 0;
  // the selection lists twice (running, then paused): the third listing is the joiner check's
  f.onAsk = (method, path, lose) => void (method === 'GET' && path === '/containers/json' && ++listings === 3 && lose());
  const run = reap(f, { 'dry-run': true });
  await expect(run).rejects.toBeInstanceOf(EngineUnreachableError);
  expect(f.logLines().find((l) => l['event'] === 'reap')).toBeUndefined();
  expect(f.logLines().find((l) => l['event'] === 'notice')).toMatchObject({ reason: 'engine lost: 1 stop decided by this reap pass not sent (mcp-wrapper-1)' });
});

test('reap with the engine lost before its stop: exit 3, no stop sent, the stop not sent is logged', async () => {
  const f = flood(1);
  let inspects = 0;
  // the selection's inspect, reap's own (its facts), then the look right before the stop
  f.onAsk = (method, path, lose) => void (method === 'GET' && /^\/containers\/[0-9a-f]{64}\/json$/.test(path) && ++inspects === 3 && lose());
  const run = reap(f);
  await expect(run).rejects.toBeInstanceOf(EngineUnreachableError);
  expect(f.asked.filter((a) => a.startsWith('POST '))).toEqual([]);
  expect(f.logLines().find((l) => l['event'] === 'notice')).toMatchObject({ reason: 'engine lost: 1 stop decided by this reap pass not sent (mcp-wrapper-1)' });
});
