// findPidsCgroup (src/observe/cgroup.ts) over a fixture /proc and cgroup fs: the cgroup mounts of
// the mount table are read once and kept (an audit of 200 containers read the whole table 800
// times), and read again when they place no container.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPidsCgroup } from '../../src/observe/cgroup.ts';

const root = mkdtempSync(join(tmpdir(), 'pidwarden-mounts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const procRoot = join(root, 'proc');
const pidsMount = join(root, 'sys', 'fs', 'cgroup', 'pids');
const MOUNT_LINE = `40 30 0:35 / ${pidsMount} rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,pids\n`;
const OTHER_LINE = '25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n';

/** A container: its init's /proc/<pid>/cgroup (cgroup v1, cgroupfs driver) and its pids files. */
function container(pid: number, id: string): void {
  mkdirSync(join(procRoot, String(pid)), { recursive: true });
  writeFileSync(join(procRoot, String(pid), 'cgroup'), `12:pids:/docker/${id}\n0::/\n`);
  const dir = join(pidsMount, 'docker', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pids.max'), '100\n');
  writeFileSync(join(dir, 'pids.current'), '3\n');
}

function mountinfo(text: string): void {
  mkdirSync(join(procRoot, 'self'), { recursive: true });
  writeFileSync(join(procRoot, 'self', 'mountinfo'), text);
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
container(100, A);
container(200, B);

describe('the cgroup mounts, kept', () => {
  test('a cgroup fs mounted after the first look is found: mounts that place nothing are read again', async () => {
    mountinfo(OTHER_LINE);
    expect(await findPidsCgroup(100, A, { procRoot })).toBeNull();
    mountinfo(OTHER_LINE + MOUNT_LINE);
    expect((await findPidsCgroup(100, A, { procRoot }))?.dir).toBe(join(pidsMount, 'docker', A));
  });

  test('once found, the mounts serve the next containers without the table', async () => {
    mountinfo('garbage that places nothing\n');
    const b = await findPidsCgroup(200, B, { procRoot });
    expect(b?.dir).toBe(join(pidsMount, 'docker', B));
    expect(b?.current).toBe(3);
    expect(b?.max).toBe(100);
  });
});

describe("a parent's limit shared with a sibling container", () => {
  test('the container may have what the sibling leaves: pids.max less the others, held by the parent', async () => {
    const parent = join(pidsMount, 'shared');
    const C = 'c'.repeat(64);
    mkdirSync(join(parent, C), { recursive: true });
    writeFileSync(join(parent, 'pids.max'), '22\n');
    writeFileSync(join(parent, 'pids.current'), '20\n');
    writeFileSync(join(parent, C, 'pids.max'), 'max\n');
    writeFileSync(join(parent, C, 'pids.current'), '7\n');
    mkdirSync(join(procRoot, '300'), { recursive: true });
    writeFileSync(join(procRoot, '300', 'cgroup'), `12:pids:/shared/${C}\n0::/\n`);
    mountinfo(OTHER_LINE + MOUNT_LINE);
    const c = await findPidsCgroup(300, C, { procRoot });
    expect({ current: c?.current, max: c?.max, heldBy: c?.heldBy, shared: c?.shared }).toEqual({ current: 7, max: 9, heldBy: parent, shared: { max: 22, current: 20 } });
  });
});
