// What observeReapSubject (src/observe/reap-subject.ts) reads for the orphan rule, over a host laid
// out in a temp dir: /proc/stat's btime, the init's and the owner's /proc/<pid>/stat, the init's
// status and cgroup, --proc-root's `self`, and the container's cgroup under a --cgroup-root. Each
// case gets its own directory: btime is read at most once a second per --proc-root (boot-time.ts).
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideReap, type ReapRules } from '../../src/decide/reap.ts';
import type { Engine } from '../../src/engine/client.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';
import { observeReapSubject } from '../../src/observe/reap-subject.ts';

const top = mkdtempSync(join(tmpdir(), 'pw-reap-subject-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

const BOOT_S = 1_764_000_000;
const ID = 'a'.repeat(64);
const INIT = 4242;
const OWNER = 777;
/** proc(5) stat line: starttime is field 22. */
const stat = (pid: number, comm: string, ticks: number, state = 'S') =>
  `${pid} (${comm}) ${state} 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${ticks} 1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;

// The owner forked 1000.0 s after boot, the engine created the container 0.3 s later and forked its
// init 0.5 s after that (test/fixtures/layout/init-start.json: 0.5 s), StartedAt another 0.4 s on.
const OWNER_TICKS = 100_000;
const INIT_TICKS = 100_080;
const CREATED_MS = (BOOT_S + 1000.3) * 1000;
const STARTED_MS = CREATED_MS + 900;
const NOW = CREATED_MS + 2 * 3_600_000;

interface Host {
  /** btime as /proc/stat reads now, in s. */
  btime?: number;
  /** What --proc-root's `self` resolves to: our PID (pidwarden reads it) by default. */
  self?: string;
  /** The init's start ticks (INIT_TICKS by default). */
  initTicks?: number;
  owner?: 'alive' | 'gone';
  /** The init's /proc/<pid>/cgroup. */
  initCgroup?: string;
}

let seq = 0;
function host(h: Host = {}): { procRoot: string; cgroupRoot: string } {
  const dir = join(top, String(++seq));
  const procRoot = join(dir, 'proc');
  const cgroupRoot = join(dir, 'cgroup');
  mkdirSync(join(procRoot, String(INIT)), { recursive: true });
  writeFileSync(join(procRoot, 'stat'), `cpu  1 0 1 100 0 0 0 0 0 0\nbtime ${h.btime ?? BOOT_S}\nprocesses 5000\n`);
  mkdirSync(join(procRoot, String(process.pid)));
  symlinkSync(h.self ?? String(process.pid), join(procRoot, 'self'));
  writeFileSync(join(procRoot, String(INIT), 'stat'), stat(INIT, 'sleep', h.initTicks ?? INIT_TICKS));
  writeFileSync(join(procRoot, String(INIT), 'status'), `Name:\tsleep\nState:\tS (sleeping)\nTgid:\t${INIT}\nNSpid:\t${INIT}\t1\n`);
  writeFileSync(join(procRoot, String(INIT), 'cgroup'), h.initCgroup ?? `0::/system.slice/docker-${ID}.scope\n`);
  if ((h.owner ?? 'alive') === 'alive') {
    mkdirSync(join(procRoot, String(OWNER)));
    writeFileSync(join(procRoot, String(OWNER), 'stat'), stat(OWNER, 'mcpmon', OWNER_TICKS));
  }
  const cg = join(cgroupRoot, 'system.slice', `docker-${ID}.scope`);
  mkdirSync(cg, { recursive: true });
  writeFileSync(join(cg, 'pids.max'), 'max\n');
  writeFileSync(join(cg, 'pids.current'), '1\n');
  return { procRoot, cgroupRoot };
}

const info: ContainerInfo = {
  id: ID,
  name: 'mcp-1',
  image: 'crystaldba/postgres-mcp',
  state: 'running',
  labels: { 'mcpmon.pid': String(OWNER) },
  initPid: INIT,
  running: true,
  pidMode: '',
  created: new Date(CREATED_MS).toISOString(),
  startedAt: new Date(STARTED_MS).toISOString(),
  finishedAt: '0001-01-01T00:00:00Z',
  user: '',
};
const rules: ReapRules = { ownerLabels: [{ key: 'mcpmon.pid' }], orphanUnlabelled: false, idleCpuPercent: 0.5, localEngine: true };

async function plan(h: Host, bootS = h.btime ?? BOOT_S) {
  const paths = host(h);
  // A local engine whose API nobody answers: the observer must not need it for the orphan rule.
  const engine = { local: true, address: `unix://${paths.procRoot}/no-engine.sock`, timeoutMs: 1000, hostProcRoot: paths.procRoot, docker: {} } as unknown as Engine;
  const o = await observeReapSubject(engine, info, { createdMs: CREATED_MS, startedAtMs: STARTED_MS, autoRemove: true, networkMode: 'none' }, rules, paths, bootS * 1000, [], false, NOW);
  return { subject: o.subject, plan: decideReap([o.subject], rules, NOW) };
}

describe('orphan rule: owner and init on one clock', () => {
  test('the laid-out host is local: a gone owner is an orphan', async () => {
    const { plan: p } = await plan({ owner: 'gone' });
    expect(p.stop.map((d) => d.reason)).toEqual([`owner PID ${OWNER} (mcpmon.pid): no such process`]);
  });
  test('a live owner keeps its container', async () => {
    const { plan: p } = await plan({});
    expect(p.stop).toEqual([]);
  });
  // The kernel recomputes btime from the wall clock on every read (src/observe/boot-time.ts): after
  // a forward step of the wall clock every start computed from it moves, the engine's Created does not.
  for (const step of [3, 9]) {
    test(`the wall clock stepped ${step} s forward since the container was created: the live owner still keeps it`, async () => {
      const { subject, plan: p } = await plan({ btime: BOOT_S + step });
      expect(subject.hostProcVisible).toBe(true);
      expect(p.stop).toEqual([]);
      expect(p.problems).toEqual([]);
    });
  }
});

describe("orphan rule: owner PIDs are looked up only in a /proc that is the engine host's (locality.ts)", () => {
  // Every case has a dead owner: where this /proc were trusted, the container would be stopped.
  const rows: [string, Host, string][] = [
    // Docker Desktop, colima, an ssh-forwarded socket: PID 4242 here is some daemon of this machine
    ['the init PID here is a process forked 5 s after this boot, not the engine\'s init', { owner: 'gone', initTicks: 500 }, 'not its init'],
    ['--proc-root is another PID namespace\'s /proc (its self is not pidwarden)', { owner: 'gone', self: '1' }, "another PID namespace's /proc"],
    ['the init is in no cgroup named after the container', { owner: 'gone', initCgroup: '0::/user.slice/user-1000.slice/session-2.scope\n' }, 'no cgroup named after'],
    // a wall-clock step beyond START_TOLERANCE_MS (10 s, layout.ts): the init no longer matches the
    // engine's window, so the owners are not judged at all (a missed stop, never a wrong one)
    ['the wall clock stepped 1 h forward', { owner: 'gone', btime: BOOT_S + 3600 }, 'not its init'],
  ];
  for (const [what, h, why] of rows) {
    test(`${what}: not judged, and said why`, async () => {
      const { subject, plan: p } = await plan(h);
      expect(subject.hostProcVisible).toBe(false);
      expect(p.stop).toEqual([]);
      expect(p.problems.map((x) => x.reason)).toEqual([expect.stringContaining(why)]);
      expect(p.problems[0]!.reason).toContain('orphan rule not applied');
    });
  }
});
