// reap never stops pidwarden's own container. With Docker's --network container:X on cgroup v2,
// /proc/self names no container of ours (the hostname, hosts and resolv.conf files are X's, the
// cgroup reads 0::/); what does is the mount namespace: the container whose init shares ours.
// The engine and the host are fakes (helpers/fake-host.ts); the fake init's ns/mnt link is set
// to this test process's own mount namespace, as pidwarden's container's init would be.
import { expect, test } from 'bun:test';
import { readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { runReap } from '../../src/commands/reap.ts';
import { fakeHostPerTest, type FakeHost, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 1 };
const fakeHost = fakeHostPerTest();

async function reapDryRun(h: FakeHost): Promise<string> {
  const flags = { all: true, 'max-age': '1h', 'dry-run': true, 'log-file': h.hostFlags['log-file'], 'state-file': h.hostFlags['state-file'], 'proc-root': h.hostFlags['proc-root'] };
  let stderr = '';
  await runReap({ settings: resolveSettings('reap', flags, {}, {}), engine: h.engine, io: { out: () => {}, err: (t) => void (stderr += t) }, timeoutMs: 5000 });
  return stderr;
}

function initMountNamespace(h: FakeHost, target: string): void {
  const link = join(h.procRoot, String(RUN.initPid), 'ns', 'mnt');
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

test("the container whose init shares pidwarden's mount namespace is its own: never stopped, also by --max-age", async () => {
  const h = fakeHost(RUN);
  initMountNamespace(h, readlinkSync('/proc/self/ns/mnt'));
  const stderr = await reapDryRun(h);
  expect(stderr).toContain('would stop 0 of 1 checked container');
  expect(stderr).toContain("pidwarden's own container");
});

test('another mount namespace: an old container like any other, stopped by --max-age', async () => {
  const h = fakeHost(RUN);
  initMountNamespace(h, 'mnt:[4026530001]');
  expect(await reapDryRun(h)).toContain(`would stop 1 of 1 checked container`);
});
