// The container's host PIDs (src/observe/host-proc.ts) over a fixture /proc: cgroup members plus
// the zombies of the init's PID namespace, found by one scan that an audit shares between its
// containers.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerHostPids, scanZombies, sharedZombieScan } from '../../src/observe/host-proc.ts';

const root = mkdtempSync(join(tmpdir(), 'pidwarden-zombies-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const procRoot = join(root, 'proc');

/** One process of the fixture /proc: a stat line in the kernel's format (its parent's host PID) and its ns/pid link. */
function proc(pid: number, state: string, ns: string, ppid = 1): void {
  mkdirSync(join(procRoot, String(pid), 'ns'), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'stat'), `${pid} (node) ${state} ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${pid * 10} 0 0\n`);
  symlinkSync(ns, join(procRoot, String(pid), 'ns', 'pid'));
}

function cgroup(name: string, members: number[]): string {
  const dir = join(root, 'cgroup', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.procs'), members.map((m) => `${m}\n`).join(''));
  return dir;
}

const A = 'pid:[4026532001]';
const B = 'pid:[4026532002]';
proc(100, 'S', A, 90); // container A's init (its parent: the engine's shim, outside)
proc(101, 'Z', A, 100); // its zombie: out of cgroup.procs, still one unit of pids.current
proc(200, 'S', B, 91); // container B's init
proc(201, 'S', B, 200);
proc(202, 'Z', B, 201);
proc(300, 'Z', 'pid:[4026531836]'); // a zombie of the host's own namespace
// a sidecar run with --pid=container:A: its process lives in A's namespace, in its own cgroup,
// and has not reaped its child
proc(400, 'S', A, 100);
proc(401, 'Z', A, 400);
const cgA = cgroup('a', [100]);
const cgB = cgroup('b', [200, 201]);
cgroup('sidecar', [400]);

describe('scanZombies', () => {
  test('every zombie of the host, by PID namespace', async () => {
    const z = await scanZombies(procRoot);
    const pids = (ns: string) => (z.get(ns) ?? []).map((x) => x.pid).sort();
    expect(pids(A)).toEqual([101, 401]);
    expect(pids(B)).toEqual([202]);
    expect(pids('pid:[4026531836]')).toEqual([300]);
    expect(z.get(B)).toEqual([{ pid: 202, ppid: 201 }]);
  });
});

describe('containerHostPids', () => {
  /** The layout of a container in its own namespace `ns` (locality.ts reads it from the init's ns/pid). */
  const own = (ns: string) => ({ sharedPidNamespace: false, nsDepth: 2, pidNamespace: ns });
  test('members plus the zombies of their own namespace whose parent is a member, nobody else: not a sidecar\'s', async () => {
    expect((await containerHostPids(cgA, procRoot, own(A))).sort()).toEqual([100, 101]);
    expect((await containerHostPids(cgB, procRoot, own(B))).sort()).toEqual([200, 201, 202]);
  });

  test('a shared PID namespace: the cgroup alone', async () => {
    expect(await containerHostPids(cgB, procRoot, { ...own(B), sharedPidNamespace: true })).toEqual([200, 201]);
  });

  test('one shared scan for many containers: the same answers, /proc scanned once', async () => {
    const shared = sharedZombieScan(procRoot);
    let scans = 0;
    const counted = () => {
      scans++;
      return shared();
    };
    const [a, b] = await Promise.all([containerHostPids(cgA, procRoot, own(A), counted), containerHostPids(cgB, procRoot, own(B), counted)]);
    expect(a.sort()).toEqual([100, 101]);
    expect(b.sort()).toEqual([200, 201, 202]);
    expect(scans).toBe(2);
    expect(await shared()).toBe(await shared()); // one scan, memoised
  });
});
