// The host identity check (src/act/identity.ts) over a fixture procRoot and cgroup directory, the
// way earlyoom tests its liveness check on a mock /proc: PID reuse and a nested namespace's
// colliding PIDs cannot be staged on demand against a real kernel. The stat and NSpid text is
// verbatim from this host (test/fixtures/layout/).
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOnHost, hostLiveness, type HostScope, type Target } from '../../src/act/identity.ts';
import { fixture } from './helpers/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'pidwarden-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const init = JSON.parse(fixture('layout', 'init-start.json')) as { stat: string; startTicks: number };
const nspidLine = (label: string) => fixture('layout', 'nested-nspid.txt').split('\n').find((l) => l.startsWith(`${label} `))!.slice(label.length + 1);

/** One process in the fixture /proc: its verbatim stat with PID, state and start time set. */
function proc(procRoot: string, hostPid: number, opts: { state?: string; startTicks?: number; nspid: string }): void {
  const fields = init.stat.slice(init.stat.lastIndexOf(')') + 2).split(' ');
  fields[0] = opts.state ?? 'S';
  fields[22 - 3] = String(opts.startTicks ?? init.startTicks);
  mkdirSync(join(procRoot, String(hostPid)), { recursive: true });
  writeFileSync(join(procRoot, String(hostPid), 'stat'), `${hostPid} (node) ${fields.join(' ')}\n`);
  writeFileSync(join(procRoot, String(hostPid), 'status'), `Name:\tnode\nState:\t${opts.state ?? 'S'}\n${opts.nspid.replace(/\t\d+/, `\t${hostPid}`)}\n`);
}

function scope(name: string, members: number[]): HostScope {
  const procRoot = join(root, name, 'proc');
  const cgroupDir = join(root, name, 'cgroup');
  mkdirSync(procRoot, { recursive: true });
  mkdirSync(cgroupDir, { recursive: true });
  writeFileSync(join(cgroupDir, 'cgroup.procs'), members.map((m) => `${m}\n`).join(''));
  return { cgroupDir, nsDepth: 2, procRoot, pidNamespace: null, sharedPidNamespace: false };
}

const target = (pid: number, hostPid: number, startTicks = init.startTicks): Target => ({ pid, hostPid, startTicks, command: 'npm exec @21st-dev/magic@latest', depth: 0 });

describe('checkOnHost', () => {
  test('alive: in the cgroup, same start time, same PID at the container level; the kill target carries every field', () => {
    const s = scope('alive', [31239]);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker') });
    const c = checkOnHost(target(10, 31239), s, new Set([31239]));
    expect(c).toEqual({ state: 'alive', target: { hostPid: 31239, pid: 10, startTicks: init.startTicks, cgroupDir: s.cgroupDir, command: 'npm exec @21st-dev/magic@latest', depth: 0 } });
  });

  test('reused: the host PID now holds a process that started later', () => {
    const s = scope('reused', [31239]);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker'), startTicks: init.startTicks + 4200 });
    expect(checkOnHost(target(10, 31239), s, new Set([31239])).state).toBe('reused');
  });

  test('a nested namespace: the inner npm (container PID 20, inner PID 12) is checked at the container level, never by its inner number', () => {
    const s = scope('nested', [31250]);
    proc(s.procRoot, 31250, { nspid: nspidLine('inner-npm') });
    expect(checkOnHost(target(20, 31250), s, new Set([31250])).state).toBe('alive');
    // a target that claims the inner number as its container PID is not this process
    expect(checkOnHost(target(12, 31250), s, new Set([31250])).state).toBe('reused');
  });

  test('gone: no longer in the cgroup (exited, or never ours), or no /proc entry', () => {
    const s = scope('gone', []);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker') });
    expect(checkOnHost(target(10, 31239), s, new Set()).state).toBe('gone');
    expect(checkOnHost(target(10, 31300), s, new Set([31300])).state).toBe('gone');
  });

  test('a zombie is dead (gone), not alive and not to be signalled', () => {
    const s = scope('zombie', [31239]);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker'), state: 'Z' });
    expect(checkOnHost(target(10, 31239), s, new Set([31239])).state).toBe('gone');
  });

  test('reaped while being checked (NSpid zeros, then Z or no stat): gone, not another process', () => {
    const s = scope('reaping', [31239, 31240]);
    proc(s.procRoot, 31239, { nspid: 'NSpid:\t0\t0', state: 'Z' });
    expect(checkOnHost(target(10, 31239), s, new Set([31239])).state).toBe('gone');
    mkdirSync(join(s.procRoot, '31240'), { recursive: true });
    writeFileSync(join(s.procRoot, '31240', 'status'), 'Name:\tsh\nState:\tX (dead)\nNSpid:\t0\t0\n');
    expect(checkOnHost(target(10, 31240), s, new Set([31240])).state).toBe('gone');
  });

  test('alive with an NSpid that cannot be read: never taken as ours', () => {
    const s = scope('no-nspid', [31239]);
    proc(s.procRoot, 31239, { nspid: 'NSpid:\t0\t0' });
    expect(checkOnHost(target(10, 31239), s, new Set([31239])).state).toBe('reused');
  });

  test('a target observed without host PID or start time cannot be checked on the host: never alive', () => {
    const s = scope('unknown', [31239]);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker') });
    expect(checkOnHost({ pid: 10, command: 'x' }, s, new Set([31239])).state).toBe('reused');
    expect(checkOnHost({ pid: 10, hostPid: 31239, command: 'x' }, s, new Set([31239])).state).toBe('reused');
  });

  test('hostLiveness reads cgroup.procs once for many targets', () => {
    const s = scope('many', [31239, 31250]);
    proc(s.procRoot, 31239, { nspid: nspidLine('worker') });
    proc(s.procRoot, 31250, { nspid: nspidLine('inner-npm') });
    const a = target(10, 31239);
    const b = target(20, 31250);
    const c = target(59, 31339);
    const m = hostLiveness([a, b, c], s);
    expect([m.get(a), m.get(b), m.get(c)]).toEqual(['alive', 'alive', 'gone']);
  });
});
