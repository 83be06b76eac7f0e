// Which processes of a container's cgroup subtree are the container's: its own cgroup's, and a
// sub-cgroup's only when in its PID namespace or one nested in it (src/observe/pid-namespace.ts).
// A /proc laid out in a temp directory: status files (NSpid, PPid) and ns/pid links, as the kernel has them.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerHostPids } from '../../src/observe/host-proc.ts';
import { containerMembers, inPidNamespace } from '../../src/observe/pid-namespace.ts';

const root = mkdtempSync(join(tmpdir(), 'pw-pidns-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const procRoot = join(root, 'proc');
const X_NS = 'pid:[4026532451]';
const Y_NS = 'pid:[4026532999]';

function proc(hostPid: number, nspid: number[], ppid: number, ns: string): void {
  const dir = join(procRoot, String(hostPid));
  mkdirSync(join(dir, 'ns'), { recursive: true });
  writeFileSync(join(dir, 'status'), `Name:\tnode\nState:\tS (sleeping)\nPPid:\t${ppid}\nNSpid:\t${nspid.join('\t')}\n`);
  symlinkSync(ns, join(dir, 'ns', 'pid'));
}

// X: init 100 (NSpid 100 1) and a child 101, both at depth 2 in X's namespace
proc(100, [100, 1], 90, X_NS);
proc(101, [101, 7], 100, X_NS);
// Y, run with --cgroup-parent=<X's cgroup>: a sibling namespace at the same depth; its PIDs 1 and 7 collide with X's
proc(200, [200, 1], 190, Y_NS);
proc(201, [201, 7], 200, Y_NS);
// docker:dind inside X: an inner container's init (depth 3) forked by a shim that is X's process
proc(300, [300, 40], 100, X_NS);
proc(301, [301, 41, 1], 300, 'pid:[4026533333]');
proc(302, [302, 42, 5], 301, 'pid:[4026533333]');
// a deeper process whose way up leaves X's namespace: its nested init was forked from Y's
proc(400, [400, 50, 1], 200, 'pid:[4026534444]');

describe('inPidNamespace', () => {
  test("X's own processes: yes", () => {
    expect([100, 101].map((p) => inPidNamespace(p, procRoot, 2, X_NS))).toEqual([true, true]);
  });
  test("a sibling namespace at X's depth (Y's PIDs collide with X's): no", () => {
    expect([200, 201].map((p) => inPidNamespace(p, procRoot, 2, X_NS))).toEqual([false, false]);
  });
  test('a namespace nested in X (docker:dind): yes, by going up to the shim in X', () => {
    expect([301, 302].map((p) => inPidNamespace(p, procRoot, 2, X_NS))).toEqual([true, true]);
  });
  test("nested, but under Y: no; a process that is gone: no", () => {
    expect(inPidNamespace(400, procRoot, 2, X_NS)).toBe(false);
    expect(inPidNamespace(999, procRoot, 2, X_NS)).toBe(false);
  });
});

describe('containerMembers', () => {
  const cgroup = join(root, 'cgroup', 'x');
  mkdirSync(join(cgroup, 'y'), { recursive: true });
  mkdirSync(join(cgroup, 'dind', 'inner'), { recursive: true });
  writeFileSync(join(cgroup, 'cgroup.procs'), '100\n101\n300\n');
  writeFileSync(join(cgroup, 'y', 'cgroup.procs'), '200\n201\n400\n');
  writeFileSync(join(cgroup, 'dind', 'cgroup.procs'), '');
  writeFileSync(join(cgroup, 'dind', 'inner', 'cgroup.procs'), '301\n302\n');

  test("its own cgroup's processes, and a sub-cgroup's in its namespace; never Y's", () => {
    expect(containerMembers(cgroup, procRoot, 2, X_NS, false).sort()).toEqual([100, 101, 300, 301, 302]);
  });
  test("asked about some processes only (a kill's targets): the other sub-cgroup members are left out", () => {
    expect(containerMembers(cgroup, procRoot, 2, X_NS, false, new Set([302, 201])).sort()).toEqual([100, 101, 300, 302]);
  });
  test("namespace unknown: its own cgroup's only", () => {
    expect(containerMembers(cgroup, procRoot, 2, null, false).sort()).toEqual([100, 101, 300]);
  });
  test('a shared namespace (pid=host): the cgroup alone decides, as before', () => {
    expect(containerMembers(cgroup, procRoot, 2, X_NS, true).sort()).toEqual([100, 101, 200, 201, 300, 301, 302, 400]);
  });

  // The cgroupfs driver names the cgroup of `docker run --cgroup-parent <X's cgroup>` after the
  // container's ID: in a shared namespace that sub-cgroup is another container's, not X's.
  const Z_ID = 'e'.repeat(64);
  const shared = join(root, 'cgroup', 'x-shared');
  mkdirSync(join(shared, Z_ID), { recursive: true });
  mkdirSync(join(shared, `docker-${'f'.repeat(64)}.scope`), { recursive: true });
  mkdirSync(join(shared, 'dind', 'inner'), { recursive: true });
  writeFileSync(join(shared, 'cgroup.procs'), '100\n101\n300\n');
  writeFileSync(join(shared, Z_ID, 'cgroup.procs'), '200\n201\n');
  writeFileSync(join(shared, `docker-${'f'.repeat(64)}.scope`, 'cgroup.procs'), '400\n');
  writeFileSync(join(shared, 'dind', 'cgroup.procs'), '');
  writeFileSync(join(shared, 'dind', 'inner', 'cgroup.procs'), '301\n302\n');

  test('a shared namespace: a sub-cgroup named after another container (--cgroup-parent) is not its; other sub-cgroups are', async () => {
    expect(containerMembers(shared, procRoot, 2, X_NS, true).sort()).toEqual([100, 101, 300, 301, 302]);
    expect(containerMembers(shared, procRoot, 2, X_NS, true, new Set([201, 302])).sort()).toEqual([100, 101, 300, 302]);
    const hostPids = await containerHostPids(shared, procRoot, { sharedPidNamespace: true, nsDepth: 2, pidNamespace: X_NS });
    expect(hostPids.sort()).toEqual([100, 101, 300, 301, 302]);
  });

  // J, run with --cgroup-parent=<X's cgroup> AND --pid=container:X: its processes are in X's own
  // namespace at X's depth, so the namespace check alone takes them for X's. A docker:dind's inner
  // container, in a sub-cgroup its inner engine also names after its ID, runs deeper.
  const J_ID = 'a'.repeat(64);
  const INNER_ID = 'b'.repeat(64);
  proc(500, [500, 60], 490, X_NS); // J's init, PID 60 in X's namespace
  proc(501, [501, 61], 500, X_NS);
  const joined = join(root, 'cgroup', 'x-joined');
  mkdirSync(join(joined, J_ID), { recursive: true });
  mkdirSync(join(joined, 'docker', INNER_ID), { recursive: true });
  writeFileSync(join(joined, 'cgroup.procs'), '100\n101\n300\n');
  writeFileSync(join(joined, J_ID, 'cgroup.procs'), '500\n501\n');
  writeFileSync(join(joined, 'docker', 'cgroup.procs'), '');
  writeFileSync(join(joined, 'docker', INNER_ID, 'cgroup.procs'), '301\n302\n');

  test("its own namespace: a joiner's sub-cgroup named after it is left out, though in X's namespace; a dind inner container's (deeper) is X's", () => {
    expect(containerMembers(joined, procRoot, 2, X_NS, false).sort()).toEqual([100, 101, 300, 301, 302]);
    expect(containerMembers(joined, procRoot, 2, X_NS, false, new Set([500, 302])).sort()).toEqual([100, 101, 300, 302]);
  });
});
