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

/** One process of the fixture /proc: a stat line in the kernel's format and its ns/pid link. */
function proc(pid: number, state: string, ns: string): void {
  mkdirSync(join(procRoot, String(pid), 'ns'), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'stat'), `${pid} (node) ${state} 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${pid * 10} 0 0\n`);
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
proc(100, 'S', A); // container A's init
proc(101, 'Z', A); // its zombie: out of cgroup.procs, still one unit of pids.current
proc(200, 'S', B); // container B's init
proc(201, 'S', B);
proc(202, 'Z', B);
proc(300, 'Z', 'pid:[4026531836]'); // a zombie of the host's own namespace
const cgA = cgroup('a', [100]);
const cgB = cgroup('b', [200, 201]);

describe('scanZombies', () => {
  test('every zombie of the host, by PID namespace', async () => {
    const z = await scanZombies(procRoot);
    expect(z.get(A)).toEqual([101]);
    expect(z.get(B)).toEqual([202]);
    expect(z.get('pid:[4026531836]')).toEqual([300]);
  });
});

describe('containerHostPids', () => {
  /** The layout of a container in its own namespace `ns` (locality.ts reads it from the init's ns/pid). */
  const own = (ns: string) => ({ sharedPidNamespace: false, nsDepth: 2, pidNamespace: ns });
  test('members plus the zombies of their own namespace, nobody else', async () => {
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
