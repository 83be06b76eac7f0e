// The monitor lists every cycle and reuses a container's earlier inspect while its init lives on
// (src/engine/containers.ts, ContainerLister); it forgets that inspect after an action that may
// have changed the container. A monitor runs here against the fake engine and host
// (helpers/fake-host.ts) at a 50 ms interval, and is stopped as SIGTERM stops it.
import { expect, test } from 'bun:test';
import { resolveSettings } from '../../src/cli/settings.ts';
import { runMonitor } from '../../src/commands/monitor.ts';
import { FAKE_ID, fakeHostPerTest, RESTART_ONLY, type FakeHost, type FakeRun } from './helpers/fake-host.ts';
import { FULL_LOOK_EVERY_MS, MonitorState } from '../../src/commands/monitor-state.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const INSPECT = `GET /containers/${FAKE_ID}/json`;
const LIST = 'GET /containers/json';

const fakeHost = fakeHostPerTest();

interface RunningMonitor {
  /** SIGTERM, then the monitor's exit code and its log lines. */
  stop(): Promise<{ code: number; lines: Record<string, unknown>[] }>;
}

function startMonitor(h: FakeHost, extra: Record<string, unknown>): RunningMonitor {
  const settings = resolveSettings('monitor', { all: true, interval: 0.05, ...h.hostFlags, ...extra }, {}, {});
  const done = runMonitor({ settings, engine: h.engine, io: { out: () => {}, err: () => {} }, timeoutMs: 5000 });
  return {
    async stop() {
      process.emit('SIGTERM');
      return { code: await done, lines: h.logLines() };
    },
  };
}

/** Polls `cond` every 20 ms; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(20);
  }
}

const posts = (h: FakeHost) => h.asked.filter((a) => a.startsWith('POST '));

/** What the engine was asked after the first request `from`. */
const askedAfter = (h: FakeHost, from: string) => h.asked.slice(h.asked.indexOf(from) + 1);

test('a restart the engine answered with an error (it may have restarted the container all the same): the next cycle inspects it again', async () => {
  const h = (fakeHost(RUN));
  const restart = `POST /containers/${FAKE_ID}/restart`;
  h.intercept = (method, path) => {
    if (`${method} ${path}` !== restart) return undefined;
    // down to its init alone, still the same init: nothing on this host says the cached inspect is stale
    h.run({ ...RUN, processes: 1 });
    return Response.json({ message: 'cannot restart container: driver failed' }, { status: 500 });
  };
  const monitor = startMonitor(h, RESTART_ONLY);
  await until(() => h.asked.includes(restart), 'the restart');
  await until(() => askedAfter(h, restart).filter((a) => a === LIST).length >= 4, 'four cycles after the restart');
  const { code, lines } = await monitor.stop();
  expect(lines.find((l) => l['event'] === 'error' && String(l['reason']).includes('driver failed'))).toBeDefined();
  // the next cycle's inspect and the one that confirms it before it is kept; then the cache serves
  expect(askedAfter(h, restart).filter((a) => a === INSPECT)).toEqual([INSPECT, INSPECT]);
  expect(code).toBe(0);
});

test('monitor --reap and a stop it refuses (no end to it) every cycle: no action counted, the cached inspect kept', async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  const monitor = startMonitor(h, { 'max-procs': 100, reap: true, 'max-age': '1h', heartbeat: 0.05 });
  await until(() => h.asked.filter((a) => a === LIST).length >= 6, 'six cycles');
  const { code, lines } = await monitor.stop();
  const refused = lines.filter((l) => l['event'] === 'reap');
  expect(refused).toHaveLength(1); // said once
  expect(refused[0]).toMatchObject({ result: 'refused', rule: 'age' });
  // in six cycles: the listing's first inspect, the one that confirms it, and the reap facts' one (ReapFactsCache), no more
  expect(h.asked.filter((a) => a === INSPECT)).toHaveLength(3);
  const heartbeats = lines.filter((l) => l['event'] === 'heartbeat');
  expect(heartbeats.length).toBeGreaterThan(0);
  expect(heartbeats.map((l) => l['actions'])).toEqual(heartbeats.map(() => 0));
  expect(posts(h)).toEqual([]);
  expect(code).toBe(0);
});

// The cheap figures cannot see zombies: a container is looked at in full when first seen and then
// at least every FULL_LOOK_EVERY_MS (test/integration/monitor.test.ts has the zombies it missed).
test('a full look is due at first sight, then every 5 minutes, and after the clock went back', () => {
  const st = new MonitorState();
  const id = 'a'.repeat(64);
  const t0 = 1_800_000_000_000;
  expect(st.fullLookDue(id, t0)).toBe(true);
  st.lookedInFull(id, t0);
  expect(st.fullLookDue(id, t0 + FULL_LOOK_EVERY_MS - 1)).toBe(false);
  expect(st.fullLookDue(id, t0 + FULL_LOOK_EVERY_MS)).toBe(true);
  expect(st.fullLookDue(id, t0 - 1)).toBe(true);
  st.retain(new Set());
  expect(st.fullLookDue(id, t0 + 1)).toBe(true);
});
