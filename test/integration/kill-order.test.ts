// The order of a tree kill on real processes (src/act/kill-trees.ts): a child that died is reaped
// by its parent before that parent is signalled. Killed the other way round, the parent dies with
// an unreaped child, and the zombie goes to PID 1, which in a Node container never reaps it.
//
// The tree is two perl processes on this host (perl-base is in every Debian): a child that dies on
// SIGTERM, and a parent that reaps it only on its next poll, every 300 ms, and then writes a file.
// The file proves the order: it exists only if the parent reaped its child before the parent's
// SIGTERM took effect. The container's cgroup is a directory with a cgroup.procs naming both (the host
// route reads only that file of it), so no engine is needed.
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/client.ts';
import type { Target } from '../../src/act/identity.ts';
import { killAll, type KillEnv, type SignalBatch } from '../../src/act/kill-trees.ts';
import { parseProcStats } from '../../src/observe/proc-stat.ts';
import { waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'pidwarden-kill-order-'));
const spawned: number[] = [];
afterAll(() => {
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A parent that polls for its dead child every POLL seconds (0: never reaps) and prints the child's
 * PID. SIGTERM is blocked from the reap to the marker's creation, so the marker exists exactly when
 * the child was reaped before the SIGTERM took effect.
 */
const PARENT = `
use POSIX ();
$| = 1;
my ($poll, $marker) = @ARGV;
my $child = fork();
if ($child == 0) { POSIX::pause() while 1; }
print "$child\\n";
my $term = POSIX::SigSet->new(POSIX::SIGTERM());
for (;;) {
  select(undef, undef, undef, $poll > 0 ? $poll : 1000);
  next unless $poll > 0;
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $term);
  if (waitpid($child, POSIX::WNOHANG()) == $child) { open(my $f, '>', $marker); close($f); }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $term);
}
`;

/** Starts the two-process tree; resolves once the parent has printed its child's PID. */
async function tree(name: string, pollSeconds: number): Promise<{ parent: number; child: number; marker: string }> {
  const marker = join(dir, `${name}.reaped`);
  const p = Bun.spawn(['perl', '-e', PARENT, String(pollSeconds), marker], { stdout: 'pipe', stderr: 'inherit', stdin: 'ignore' });
  spawned.push(p.pid);
  const reader = p.stdout.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) throw new Error('perl exited before printing its child');
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const child = Number(text.trim());
  spawned.push(child);
  return { parent: p.pid, child, marker };
}

function targetOf(hostPid: number, depth: number, command: string): Target {
  const stat = parseProcStats(readFileSync(`/proc/${hostPid}/stat`, 'utf8'))[0]!;
  return { pid: hostPid, hostPid, startTicks: stat.startTicks, command, depth };
}

function envFor(name: string, pids: number[], childReapWaitMs: number): KillEnv {
  const cgroupDir = join(dir, `${name}.cgroup`);
  rmSync(cgroupDir, { recursive: true, force: true });
  mkdirSync(cgroupDir);
  writeFileSync(join(cgroupDir, 'cgroup.procs'), pids.map((p) => `${p}\n`).join(''));
  return {
    engine: {} as Engine,
    containerId: name,
    cgroupDir,
    nsDepth: 1, // the first NSpid entry: this /proc's own level
    pidNamespace: null, // no sub-cgroups here
    sharedPidNamespace: false,
    procRoot: '/proc',
    hostSignals: true,
    execAllowed: false,
    execTimeoutMs: 5000,
    dryRun: false,
    childReapWaitMs,
  };
}

const gone = (pid: number) => {
  try {
    const stat = parseProcStats(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0];
    return stat === undefined || stat.state === 'Z';
  } catch {
    return true;
  }
};

/**
 * Kills the tree (child at depth 1, parent at depth 0) with killAll's host route and checks what
 * both cases share: the child signalled first, then the parent, both gone. Returns whether the
 * parent reaped its child before its SIGTERM took effect (the marker).
 */
async function killTree(name: string, pollSeconds: number, childReapWaitMs: number): Promise<boolean> {
  const t = await tree(name, pollSeconds);
  const batches: SignalBatch[] = [];
  const env = envFor(name, [t.parent, t.child], childReapWaitMs);
  const report = await killAll(env, [targetOf(t.child, 1, 'child'), targetOf(t.parent, 0, 'parent')], 10_000, (b) => batches.push(b));
  expect(batches.map((b) => [b.signal, b.level, b.targets.map((x) => x.hostPid)])).toEqual([
    ['SIGTERM', 1, [t.child]],
    ['SIGTERM', 0, [t.parent]],
  ]);
  expect(report).toMatchObject({ survivors: [], notSignalled: [] });
  await waitFor(() => gone(t.parent), 10_000, 50, 'the parent gone');
  return existsSync(t.marker);
}

test('a dead child is reaped by its parent before the parent is signalled', async () => {
  // a generous bound: the parent reaps within 0.3 s of the death on an idle machine
  expect(await killTree('slow-reaper', 0.3, 60_000)).toBe(true);
}, 120_000);

test('a parent that never reaps is signalled once the wait runs out', async () => {
  expect(await killTree('no-reaper', 0, 200)).toBe(false);
}, 120_000);
