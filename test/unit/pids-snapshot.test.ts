// readPidsSnapshotSync (src/observe/cgroup.ts), the monitor's cheap check, over fixture cgroup
// directories. The kernel writes cgroup.procs in the reader's PID namespace: read from `unshare -p
// -f` it listed 0 of a container's 10 processes while pids.current still read 68
// (test/integration/layouts.test.ts runs pidwarden there). A count of 0 passes any --max-procs.
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPidsSnapshotSync } from '../../src/observe/cgroup.ts';

const root = mkdtempSync(join(tmpdir(), 'pidwarden-snapshot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cgroup(name: string, files: { procs: string; current: string; max: string; child?: string }): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.procs'), files.procs);
  writeFileSync(join(dir, 'pids.current'), files.current);
  writeFileSync(join(dir, 'pids.max'), files.max);
  if (files.child !== undefined) {
    mkdirSync(join(dir, 'init'));
    writeFileSync(join(dir, 'init', 'cgroup.procs'), files.child);
  }
  return dir;
}

test.each([
  ['members listed', { procs: '7\n12\n13\n', current: '30\n', max: '200\n' }, { current: 30, max: 200, processes: 3 }],
  ['members in a child cgroup only (dind moves PID 1 into <id>/init)', { procs: '', current: '11\n', max: 'max\n', child: '7\n' }, { current: 11, max: null, processes: 1 }],
  ['no member listed, none counted', { procs: '', current: '0\n', max: 'max\n' }, { current: 0, max: null, processes: 0 }],
  ['no member listed while pids.current counts 68: read from another PID namespace', { procs: '', current: '68\n', max: 'max\n' }, null],
] as const)('%s', (name, files, want) => {
  expect(readPidsSnapshotSync([cgroup(name.replace(/\W+/g, '-'), files)])).toEqual(want);
});

test('a cgroup that is gone: null', () => {
  expect(readPidsSnapshotSync([join(root, 'gone')])).toBeNull();
});

// Two containers under one --cgroup-parent whose pids.max is 2 above its pids.current: a parent's
// pids.current counts both. Compared with the parent's pids.max alone, the small one read 7 of 22
// tasks and passed the cheap check while its forks were about to fail.
test("a parent's limit shared with another container: the room the other leaves, not the parent's pids.max", () => {
  const parent = join(root, 'shared-parent');
  mkdirSync(parent);
  writeFileSync(join(parent, 'pids.max'), '22\n');
  writeFileSync(join(parent, 'pids.current'), '20\n');
  const small = join(parent, 'small');
  mkdirSync(small);
  writeFileSync(join(small, 'cgroup.procs'), '7\n12\n13\n');
  writeFileSync(join(small, 'pids.current'), '7\n');
  writeFileSync(join(small, 'pids.max'), 'max\n');
  expect(readPidsSnapshotSync([small, parent])).toEqual({ current: 7, max: 9, processes: 3 });
});

test("a parent's pids.max that cannot be read: no cheap verdict (null), the full observation decides", () => {
  const parent = join(root, 'parent-gone');
  const child = join(parent, 'child');
  mkdirSync(child, { recursive: true });
  writeFileSync(join(child, 'cgroup.procs'), '7\n');
  writeFileSync(join(child, 'pids.current'), '3\n');
  writeFileSync(join(child, 'pids.max'), 'max\n');
  expect(readPidsSnapshotSync([child, parent])).toBeNull();
});
