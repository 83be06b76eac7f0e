// pidfd_open(2) has no permission check of its own: EPERM from it is a seccomp profile refusing the
// syscall. Docker's default profile did until 20.10 (pidfd_open and pidfd_send_signal were added to
// it in November 2020), and a pidwarden run in a container under such a profile got EPERM for every
// process: the host route failed all of them, and a container at its pids limit (no exec) or in a
// shared PID namespace (never an exec'd kill) was not cleaned at all. Such a refusal is a kernel
// without pidfds as far as pidwarden goes: check, then kill(2) at once. The refusal is staged with
// a stand-in for libc (a seccomp filter cannot be installed from a test); the process is a real
// child of this test, read from the real /proc, and its cgroup a temp file listing it.
import { afterEach, expect, test } from 'bun:test';
import { ptr } from 'bun:ffi';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostMembers, signalOnHost, type HostScope, type Target } from '../../src/act/identity.ts';
import { replaceLibcForTests, type Libc } from '../../src/act/pidfd.ts';
import { parseNsPid, parseProcStats } from '../../src/observe/proc-stat.ts';

const EPERM = 1;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** libc whose syscall(2) fails with `errno` (what a seccomp profile's SCMP_ACT_ERRNO does). */
function refusingLibc(errno: number): Libc {
  const cell = new Int32Array([errno]);
  return { symbols: { syscall: () => -1n, __errno_location: () => ptr(cell), close: () => 0 }, close: () => {} } as unknown as Libc;
}

/** A real `sleep` child, its cgroup a temp file listing it, and the target as a look would give it. */
function sleepingChild(): { child: ReturnType<typeof Bun.spawn>; scope: HostScope; t: Target } {
  const child = Bun.spawn(['sleep', '30']);
  cleanups.push(() => child.kill('SIGKILL'));
  const dir = mkdtempSync(join(tmpdir(), 'pw-pidfd-refused-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cgroup.procs'), `${child.pid}\n`);
  const nspids = parseNsPid(readFileSync(`/proc/${child.pid}/status`, 'utf8'))!;
  const stat = parseProcStats(readFileSync(`/proc/${child.pid}/stat`, 'utf8'))[0]!;
  const scope: HostScope = { cgroupDir: dir, nsDepth: nspids.length, procRoot: '/proc', pidNamespace: null, sharedPidNamespace: false };
  replaceLibcForTests(refusingLibc(EPERM));
  cleanups.push(() => replaceLibcForTests(undefined));
  return { child, scope, t: { pid: nspids.at(-1)!, hostPid: child.pid, startTicks: stat.startTicks, command: 'sleep 30', depth: 0 } };
}

test('pidfd_open refused with EPERM: the process is checked and signalled with kill(2), not left unsignalled', async () => {
  const { child, scope, t } = sleepingChild();
  expect(signalOnHost(t, 'SIGTERM', scope, hostMembers(scope, [t]), false)).toEqual({ result: 'signalled', pidfd: false });
  await child.exited;
  expect(child.signalCode).toBe('SIGTERM');
});

test('pidfd_open refused, dry run: nothing is sent', async () => {
  const { child, scope, t } = sleepingChild();
  expect(signalOnHost(t, 'SIGTERM', scope, hostMembers(scope, [t]), true)).toEqual({ result: 'signalled', pidfd: false });
  // A SIGTERM sent would have set the exit already (kill(2) marks a default-fatal signal's group
  // exit as it is sent): the SIGKILL sent now is what ends it only if nothing was sent before.
  child.kill('SIGKILL');
  await child.exited;
  expect(child.signalCode).toBe('SIGKILL');
});
