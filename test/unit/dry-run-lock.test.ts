// A dry run acts on nothing, so it takes no ladder lock. It took one: a `monitor --dry-run` left to
// watch a host (to see what it would do) held each unhealthy container's lock for its whole
// simulated ladder, and a real cron `cleanup` of that container in the meantime logged `busy` and
// did nothing (a missed cleanup). The engine and host are fakes (helpers/fake-host.ts).
import { expect, test } from 'bun:test';
import { StateStore } from '../../src/state/state-file.ts';
import { cleanupOn, FAKE_ID, fakeHostPerTest, RESTART_ONLY, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const fakeHost = fakeHostPerTest();

test('a dry run goes down its ladder while another pidwarden holds the lock, and leaves the lock alone', async () => {
  const h = fakeHost(RUN);
  const store = new StateStore(String(h.hostFlags['state-file']), () => {});
  const held = store.tryLockContainer(FAKE_ID);
  expect(held).not.toBeNull();
  const { lines } = await cleanupOn(h, { ...RESTART_ONLY, 'dry-run': true });
  expect(lines.filter((l) => l['event'] === 'busy')).toEqual([]);
  expect(lines.find((l) => l['event'] === 'restart')).toMatchObject({ dryRun: true });
  expect(h.asked).not.toContain(`POST /containers/${FAKE_ID}/restart`);
  held!();
});

test('while a dry run goes down its ladder, the lock is free for a real cleanup', async () => {
  const h = fakeHost(RUN);
  const store = new StateStore(String(h.hostFlags['state-file']), () => {});
  const tries: boolean[] = [];
  // every listing of the run (the selection, the restart's joiner check) is a moment inside it
  h.intercept = (method, path) => {
    if (method === 'GET' && path === '/containers/json') {
      const lock = store.tryLockContainer(FAKE_ID);
      tries.push(lock !== null);
      lock?.();
    }
    return undefined;
  };
  await cleanupOn(h, { ...RESTART_ONLY, 'dry-run': true });
  expect(tries.length).toBeGreaterThan(1);
  expect(tries.every(Boolean)).toBe(true);
});
