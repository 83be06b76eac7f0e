// One reap pass of `monitor --reap`, against the fake engine (no real engine): what it does once
// the monitor was asked to stop, and what it remembers of containers that are gone.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { Reaper } from '../../src/commands/reap-pass.ts';
import { StateStore } from '../../src/state/state-file.ts';
import { selectContainers } from '../../src/engine/containers.ts';
import { createActionLog } from '../../src/log/logger.ts';
import { startFakeEngine, type FakeContainer } from './helpers/fake-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'pw-reap-pass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Started an hour ago: past --max-age 1m. */
const STARTED_AT = new Date(Date.now() - 3_600_000).toISOString();
const container = (n: number, labels: Record<string, string> = {}): FakeContainer => ({
  id: String(n).repeat(64).slice(0, 64),
  name: `mcp-${n}`,
  labels,
  startedAt: STARTED_AT,
});

function settingsFor(name: string) {
  const procRoot = mkdtempSync(join(dir, `${name}-proc-`));
  return resolveSettings('monitor', { all: true, reap: true, 'max-age': '1m', 'proc-root': procRoot, 'state-file': join(dir, `${name}.json`), 'log-file': join(dir, `${name}.jsonl`) }, {}, {});
}

// SIGTERM reaches the monitor while its reap pass observes (or stops the first 8 of) 20 containers
// past --max-age: before, the pass went on through its whole queue, 8 stops at a time, each up to
// --timeout plus the container's stop timeout (a Node PID 1 that ignores SIGTERM takes all 10 s of
// Docker's default), so the monitor "stopped after the current action" more than 20 s later, having
// stopped 20 containers after it was told to stop.
test('a reap pass sends no stop once the monitor is stopping', async () => {
  const fake = startFakeEngine([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => container(n)));
  try {
    const s = settingsFor('stopping');
    const infos = await selectContainers(fake.engine, { containers: [], labels: [] });
    const log = createActionLog(s.logFile);
    const stopping = true; // SIGTERM arrived while the pass observed
    const r = await new Reaper(fake.engine, s, null).pass(infos, log, () => stopping);
    log.flush();
    expect(fake.asked.filter((p) => p.endsWith('/stop'))).toEqual([]);
    expect(r.outcomes).toEqual([]);
    const lines = readFileSync(s.logFile!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['event'] === 'reap')).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'notice', reason: expect.stringContaining('9 stops decided by this reap pass not sent') }));
  } finally {
    fake.stop();
  }
});

test('a reap pass that is not stopping stops what its rules hit (the same setup)', async () => {
  const fake = startFakeEngine([1, 2, 3].map((n) => container(n)));
  try {
    const s = settingsFor('running');
    const infos = await selectContainers(fake.engine, { containers: [], labels: [] });
    const log = createActionLog(s.logFile);
    await new Reaper(fake.engine, s, null).pass(infos, log, () => false);
    log.flush();
    // the fake engine has no stop endpoint (404: "gone"); what matters is that each stop was sent
    expect(fake.asked.filter((p) => p.endsWith('/stop')).length).toBe(3);
  } finally {
    fake.stop();
  }
});

// A monitor --reap runs for weeks on hosts that make a container every few seconds; each line said
// "once" was remembered by container ID for the monitor's life (one key per kept, refused, "would
// stop" or problem line), never forgotten with the container: 1 per 3 s is ~200,000 keys a week.
test("a reap pass forgets what it said about containers that are gone", async () => {
  const kept = container(4, { 'pidwarden.reap': 'false' });
  const fake = startFakeEngine([kept]);
  try {
    const s = settingsFor('forget');
    const log = createActionLog(s.logFile);
    const reaper = new Reaper(fake.engine, s, null);
    await reaper.pass(await selectContainers(fake.engine, { containers: [], labels: [] }), log);
    const said = (reaper as unknown as { said: Set<string> }).said;
    expect([...said]).toEqual([`${kept.id} kept age`]);
    fake.containers.length = 0; // removed
    await reaper.pass([], log);
    log.flush();
    expect(said.size).toBe(0);
  } finally {
    fake.stop();
  }
});

// monitor --reap runs its reap passes beside its watches, and a cron cleanup may run beside a reap:
// a stop sent while a ladder restarts the container undoes the restart (or the restart the stop).
// The reap pass takes the container's ladder lock as a ladder does; held, the stop waits for a later pass.
test('a container whose ladder lock is held is not stopped: busy, left to a later pass', async () => {
  const held = container(5);
  const free = container(6);
  const fake = startFakeEngine([held, free]);
  try {
    const s = settingsFor('busy');
    const store = new StateStore(s.stateFile, () => {});
    const ladder = store.tryLockContainer(held.id);
    expect(ladder).not.toBeNull();
    const log = createActionLog(s.logFile);
    const r = await new Reaper(fake.engine, s, store).pass(await selectContainers(fake.engine, { containers: [], labels: [] }), log);
    log.flush();
    expect(r.outcomes.map((o) => [o.info.name, o.action.result])).toContainEqual([held.name, 'busy']);
    expect(fake.asked.filter((p) => p.endsWith('/stop'))).toEqual([expect.stringContaining(free.id)]);
    ladder!();
    // released: the next pass stops it
    await new Reaper(fake.engine, s, store).pass(await selectContainers(fake.engine, { containers: [], labels: [] }), log);
    expect(fake.asked.filter((p) => p.endsWith('/stop') && p.includes(held.id))).toHaveLength(1);
  } finally {
    fake.stop();
  }
});
