// Which host process a timed-out exec may be killed as: over a copied procRoot holding real files
// (this test process's own /proc/self/stat, a real container's /proc/<pid>/cgroup from
// test/fixtures/cgroup/private-namespace/). PID reuse cannot be staged, so it is played here with
// start times, as earlyoom's TestIsAliveMock does with a mock /proc.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExecProcess, killExecProcess, ticksSinceBoot } from '../../src/engine/exec-reaper.ts';
import { parseProcStats } from '../../src/observe/proc-stat.ts';
import { fixture } from './helpers/fixtures.ts';

const CGROUP = fixture('cgroup/private-namespace', 'proc-pid-cgroup.cgroupns-host.txt');
const ID = /docker\/([0-9a-f]{64})/.exec(CGROUP)![1]!;
const OTHER_ID = 'e'.repeat(64);

let root = '';
let pid = 0;
let startTicks = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pw-reaper-'));
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rec = parseProcStats(stat)[0]!;
  pid = rec.pid;
  startTicks = rec.startTicks;
  mkdirSync(join(root, String(pid)));
  writeFileSync(join(root, String(pid), 'stat'), stat);
  writeFileSync(join(root, String(pid), 'cgroup'), CGROUP);
  writeFileSync(join(root, 'uptime'), readFileSync('/proc/uptime', 'utf8'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A procRoot holding one process `p` (its stat and cgroup), an uptime, and `self` naming process `selfPid`. */
function fakeProc(p: number, files: { stat: string; cgroup: string; uptime: string }, selfPid = process.pid): string {
  const dir = mkdtempSync(join(root, 'proc-'));
  for (const n of new Set([p, selfPid])) mkdirSync(join(dir, String(n)));
  writeFileSync(join(dir, String(p), 'stat'), files.stat);
  writeFileSync(join(dir, String(p), 'cgroup'), files.cgroup);
  writeFileSync(join(dir, 'uptime'), files.uptime);
  symlinkSync(String(selfPid), join(dir, 'self')); // as /proc/self: relative, to our PID's directory
  return dir;
}

describe('isExecProcess', () => {
  test("the exec's process: in the container's cgroup, started after the exec was created", () => {
    expect(isExecProcess(root, pid, ID, startTicks)).toBe(true);
    expect(isExecProcess(root, pid, ID, startTicks + 10)).toBe(true); // /proc/uptime rounding
  });

  test('a process of another container (or of none) is never the exec\'s', () => {
    expect(isExecProcess(root, pid, OTHER_ID, startTicks)).toBe(false);
  });

  test('a PID reused since: started before the exec was created', () => {
    expect(isExecProcess(root, pid, ID, startTicks + 11)).toBe(false);
  });

  test('the container is named by a whole path segment of the pids hierarchy (or the unified one), not by a substring', () => {
    const stat = readFileSync(join(root, String(pid), 'stat'), 'utf8');
    const uptime = readFileSync(join(root, 'uptime'), 'utf8');
    const named = (cgroup: string) => isExecProcess(fakeProc(pid, { stat, cgroup, uptime }), pid, ID, startTicks);
    expect(named(`0::/system.slice/docker-${ID}.scope\n`)).toBe(true); // systemd driver, cgroup v2
    expect(named(`0::/docker/${ID}/init\n`)).toBe(true); // docker:dind moves its PID 1 below the container's cgroup
    expect(named(fixture('cgroup/private-namespace', 'proc-pid-cgroup.cgroupns-private.txt'))).toBe(true); // "/../<id>"
    expect(named(`0::/docker/${ID}0\n`)).toBe(false); // 65 hex digits: another name that contains the ID
    expect(named(`8:pids:/docker/${OTHER_ID}\n1:name=${ID}:/\n`)).toBe(false); // the ID in the controllers field
    expect(named(`8:pids:/docker/${OTHER_ID}\n1:cpu:/docker/${ID}\n0::/docker/${ID}\n`)).toBe(false); // pids counts it elsewhere
  });

  test('a start time after now (a procRoot of another boot or host) is not the exec\'s', () => {
    const stat = readFileSync(join(root, String(pid), 'stat'), 'utf8');
    const proc = (uptimeS: number) => fakeProc(pid, { stat, cgroup: CGROUP, uptime: `${uptimeS.toFixed(2)} 1.00\n` });
    expect(isExecProcess(proc(startTicks / 100), pid, ID, startTicks)).toBe(true);
    expect(isExecProcess(proc(startTicks / 100 - 0.1), pid, ID, startTicks)).toBe(true); // /proc/uptime rounding
    expect(isExecProcess(proc(startTicks / 100 - 0.11), pid, ID, startTicks)).toBe(false);
    expect(isExecProcess(proc(startTicks / 100 - 3600), pid, ID, startTicks)).toBe(false);
  });

  test('gone, PID 1, not a PID, not a full ID: no', () => {
    expect(isExecProcess(root, 999_999_999, ID, 0)).toBe(false);
    expect(isExecProcess(root, 1, ID, 0)).toBe(false);
    expect(isExecProcess(root, Number.NaN, ID, 0)).toBe(false);
    expect(isExecProcess(root, pid, ID.slice(0, 12), startTicks)).toBe(false);
  });

  test('ticksSinceBoot reads /proc/uptime in clock ticks (100 per second); null when unreadable', () => {
    const up = Number(readFileSync(join(root, 'uptime'), 'utf8').split(' ')[0]);
    expect(ticksSinceBoot(root)).toBe(Math.round(up * 100));
    expect(ticksSinceBoot(join(root, 'nope'))).toBeNull();
  });
});

describe('killExecProcess', () => {
  /** A real child (sleep 600) stands for the exec's process, created after createdTicks; always ended afterwards. */
  async function withChild(fn: (child: Bun.Subprocess, createdTicks: number) => Promise<void>): Promise<void> {
    const createdTicks = ticksSinceBoot('/proc')!;
    const child = Bun.spawn(['sleep', '600']);
    try {
      await fn(child, createdTicks);
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
  }

  /** A procRoot with the child's own stat, in a cgroup named after ID, whose self names selfPid. */
  function childProc(child: number, selfPid: number): string {
    const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
    return fakeProc(child, { stat, cgroup: CGROUP, uptime: readFileSync('/proc/uptime', 'utf8') }, selfPid);
  }

  test("procRoot of our PID namespace (its self is our PID): the exec's process is killed", () =>
    withChild(async (child, createdTicks) => {
      expect(killExecProcess(childProc(child.pid, process.pid), child.pid, ID, createdTicks)).toBe(true);
      await child.exited;
      expect(child.signalCode).toBe('SIGKILL');
    }));

  test('a host /proc seen from another PID namespace (its self is not our PID): never signalled, though the process checks out', () =>
    withChild(async (child, createdTicks) => {
      // In a container without pid: host, the host's /proc/self names our host PID, not process.pid.
      const proc = childProc(child.pid, 4_194_304);
      expect(isExecProcess(proc, child.pid, ID, createdTicks)).toBe(true);
      expect(killExecProcess(proc, child.pid, ID, createdTicks)).toBe(false);
      expect(killExecProcess(join(root, 'nope'), child.pid, ID, createdTicks)).toBe(false); // no self at all
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    }));
});
