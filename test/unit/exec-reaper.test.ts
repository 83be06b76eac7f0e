// Which host process a timed-out exec may be killed as: over a copied procRoot holding real files
// (this test process's own /proc/self/stat, a real container's /proc/<pid>/cgroup from
// test/fixtures/cgroup/private-namespace/). PID reuse cannot be staged, so it is played here with
// start times, as earlyoom's TestIsAliveMock does with a mock /proc.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExecProcess, ticksSinceBoot } from '../../src/engine/exec-reaper.ts';
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

  test('gone, PID 1, not a PID, not a full ID: no', () => {
    expect(isExecProcess(root, 999_999_999, ID, 0)).toBe(false);
    expect(isExecProcess(root, 1, ID, 0)).toBe(false);
    expect(isExecProcess(root, Number.NaN, ID, 0)).toBe(false);
    expect(isExecProcess(root, pid, ID.slice(0, 12), startTicks)).toBe(false);
  });

  test('ticksSinceBoot reads /proc/uptime in clock ticks (100 per second); null when unreadable', () => {
    const up = Number(readFileSync(join(root, 'uptime'), 'utf8').split(' ')[0]);
    expect(ticksSinceBoot(root)).toBe(Math.floor(up * 100));
    expect(ticksSinceBoot(join(root, 'nope'))).toBeNull();
  });
});
