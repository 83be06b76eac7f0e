import { describe, expect, test } from 'bun:test';
import {
  parseMountinfo,
  parsePidList,
  parsePidsValue,
  parseProcCgroup,
  pidsCgroupCandidates,
  memoryFromCgroup,
  parseCpuUsageNs,
  type Mount,
} from '../../src/observe/cgroup-parse.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './helpers/fixtures.ts';

// Real files captured on a cgroup v1 hybrid host, Docker 20.10 with the cgroupfs driver.
const V1 = 'cgroup/v1-hybrid-cgroupfs';
const LIMITED_ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8'; // --pids-limit 25
const PARENT_ID = 'd253fe7f9940eb4fa9bd9433c59c885b70e4ff33b42faf8a1111b379a18fddc2'; // --cgroup-parent /custom/parent

// Real files captured on pure cgroup v2 hosts (QEMU guests of scripts/vm-lane.sh, made by
// scripts/vm/capture-cgroup.sh; test/fixtures/cgroup/README.md says which run made which):
// Docker 26 with the systemd driver, Podman 5 (systemd driver, crun), Docker 20.10 with cgroupfs.
const V2 = 'cgroup/v2-docker26-systemd';
const PODMAN = 'cgroup/v2-podman5-systemd';
const V2_CGROUPFS = 'cgroup/v2-docker20-cgroupfs';
/** the captured container's full ID, as its meta.txt records it */
const idOf = (dir: string) => /^container: ([0-9a-f]{64})$/m.exec(fixture(dir, 'meta.txt'))![1]!;
const V2_ID = idOf(V2);
const PODMAN_ID = idOf(PODMAN);
const CGROUPFS_ID = idOf(V2_CGROUPFS);

const v1Mounts = () => parseMountinfo(fixture(V1, 'proc-self-mountinfo.txt'));
const v2Mounts = () => parseMountinfo(fixture(V2, 'proc-self-mountinfo.txt'));

describe('parseProcCgroup', () => {
  test('v1 hybrid host (real capture): every controller maps to the container path, and 0:: is the unified path', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.pids-limit-25.txt'));
    const path = `/docker/${LIMITED_ID}`;
    expect(cg.v1.get('pids')).toBe(path);
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio']) expect(cg.v1.get(c)).toBe(path);
    // named hierarchies keep their "name=" prefix as the key
    expect(cg.v1.get('name=systemd')).toBe(path);
    expect(cg.v1.size).toBe(9);
    expect(cg.v2).toBe(path);
  });

  test('v1 hybrid host with --cgroup-parent (real capture)', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.cgroup-parent.txt'));
    expect(cg.v1.get('pids')).toBe(`/custom/parent/${PARENT_ID}`);
    expect(cg.v2).toBe(`/custom/parent/${PARENT_ID}`);
  });

  test('pure v2 host, Docker 26 with the systemd driver (real capture): one 0:: line, no v1 controllers', () => {
    const cg = parseProcCgroup(fixture(V2, 'proc-pid-cgroup.txt'));
    expect(cg.v1.size).toBe(0);
    expect(cg.v2).toBe(`/system.slice/docker-${V2_ID}.scope`);
  });

  test('pure v2 host, Podman 5 (real capture): the container is the `container` leaf below its libpod scope', () => {
    const cg = parseProcCgroup(fixture(PODMAN, 'proc-pid-cgroup.txt'));
    expect(cg.v1.size).toBe(0);
    expect(cg.v2).toBe(`/machine.slice/libpod-${PODMAN_ID}.scope/container`);
  });

  test('pure v2 host, Docker 20.10 with the cgroupfs driver (real capture): /docker/<id>', () => {
    const cg = parseProcCgroup(fixture(V2_CGROUPFS, 'proc-pid-cgroup.txt'));
    expect(cg.v1.size).toBe(0);
    expect(cg.v2).toBe(`/docker/${CGROUPFS_ID}`);
  });

  test('seen from inside (a private cgroup namespace, every engine\'s v2 default), the path is "/" (real captures)', () => {
    for (const dir of [V2, PODMAN, V2_CGROUPFS]) {
      expect({ dir, v2: parseProcCgroup(fixture(dir, 'proc-pid-cgroup.inside.txt')).v2 }).toEqual({ dir, v2: '/' });
    }
  });

  test('comma-joined v1 controllers ("4:cpu,cpuacct:/x") map each controller', () => {
    const cg = parseProcCgroup('4:cpu,cpuacct:/docker/abc\n11:pids:/docker/abc\n');
    expect(cg.v1.get('cpu')).toBe('/docker/abc');
    expect(cg.v1.get('cpuacct')).toBe('/docker/abc');
    expect(cg.v1.get('pids')).toBe('/docker/abc');
    expect(cg.v2).toBeNull();
  });

  test('a path containing ":" is kept whole (only the first two colons separate fields)', () => {
    const cg = parseProcCgroup('0::/kubepods/pod1/cri-containerd:abc:def\n');
    expect(cg.v2).toBe('/kubepods/pod1/cri-containerd:abc:def');
  });

  test('blank and malformed lines are ignored; empty input gives nothing', () => {
    expect(parseProcCgroup('')).toEqual({ v1: new Map(), v2: null });
    const cg = parseProcCgroup('garbage\n\n12\n8:pids:/docker/x\n');
    expect([...cg.v1.entries()]).toEqual([['pids', '/docker/x']]);
    expect(cg.v2).toBeNull();
  });

  test('a v2 root cgroup ("0::/") is the path "/"', () => {
    expect(parseProcCgroup('0::/\n').v2).toBe('/');
  });
});

describe('parseMountinfo', () => {
  test('real v1 hybrid capture: cgroup v1 hierarchies with their controllers, and cgroup2 at /sys/fs/cgroup/unified', () => {
    const mounts = v1Mounts();
    // every line of the capture has the " - " separator
    expect(mounts.length).toBe(fixture(V1, 'proc-self-mountinfo.txt').trim().split('\n').length);
    const pids = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('pids'));
    expect(pids).toEqual({ root: '/', mountPoint: '/sys/fs/cgroup/pids', fsType: 'cgroup', superOptions: ['rw', 'pids'] });
    const unified = mounts.filter((m) => m.fsType === 'cgroup2');
    expect(unified).toEqual([{ root: '/', mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2', superOptions: ['rw'] }]);
    const systemd = mounts.find((m) => m.mountPoint === '/sys/fs/cgroup/systemd');
    expect(systemd?.superOptions).toEqual(['rw', 'name=systemd']);
  });

  test('optional fields (shared:N, master:N) before the separator do not shift the right-hand fields', () => {
    const data = mountsAt(v1Mounts(), '/tmp/pwd-docker/data');
    expect(data).toEqual({
      root: '/tmp/pwd-docker/data',
      mountPoint: '/tmp/pwd-docker/data',
      fsType: 'ext4',
      superOptions: ['rw', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534'],
    });
  });

  test('a root that is not a path (nsfs "net:[...]") is taken verbatim', () => {
    const ns = v1Mounts().find((m) => m.fsType === 'nsfs');
    expect(ns?.root).toMatch(/^net:\[\d+\]$/);
  });

  test('the example line from proc(5)', () => {
    const [m] = parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue');
    expect(m).toEqual({ root: '/mnt1', mountPoint: '/mnt2', fsType: 'ext3', superOptions: ['rw', 'errors=continue'] });
  });

  test('real v2 captures: cgroup2 alone at /sys/fs/cgroup (systemd adds memory_recursiveprot), every line parsed', () => {
    const cg2 = v2Mounts().filter((m) => m.fsType === 'cgroup2');
    expect(cg2).toEqual([
      { root: '/', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', superOptions: ['rw', 'nsdelegate', 'memory_recursiveprot'] },
    ]);
    expect(v2Mounts().filter((m) => m.fsType === 'cgroup')).toEqual([]);
    const plain = parseMountinfo(fixture(V2_CGROUPFS, 'proc-self-mountinfo.txt'));
    expect(plain.filter((m) => m.fsType.startsWith('cgroup'))).toEqual([
      { root: '/', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', superOptions: ['rw', 'nsdelegate'] },
    ]);
    for (const dir of [V2, PODMAN, V2_CGROUPFS]) {
      const text = fixture(dir, 'proc-self-mountinfo.txt');
      expect({ dir, lines: parseMountinfo(text).length }).toEqual({ dir, lines: text.trim().split('\n').length });
    }
  });

  test('octal escapes are decoded: \\040 space, \\011 tab, \\012 newline, \\134 backslash', () => {
    const [disk] = parseMountinfo('31 29 8:17 / /media/backup/My\\040Disk rw,relatime shared:9 - ext4 /dev/sdb1 rw');
    expect(disk).toMatchObject({ mountPoint: '/media/backup/My Disk', fsType: 'ext4' });
    const [m] = parseMountinfo('50 29 8:1 /a\\040b /mnt/x\\011y\\012z\\134w rw - ext4 /dev/sdb1 rw');
    expect(m?.root).toBe('/a b');
    expect(m?.mountPoint).toBe('/mnt/x\ty\nz\\w');
  });

  test('a backslash not followed by three octal digits is left alone', () => {
    const [m] = parseMountinfo('50 29 8:1 / /mnt/a\\9b rw - ext4 /dev/sdb1 rw');
    expect(m?.mountPoint).toBe('/mnt/a\\9b');
  });

  test('lines without the separator or with too few fields are skipped', () => {
    expect(parseMountinfo('')).toEqual([]);
    expect(parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw,noatime\n')).toEqual([]);
    expect(parseMountinfo('36 35 / - ext3 /dev/root rw\n')).toEqual([]); // 3 fields left of " - "
    expect(parseMountinfo('36 35 98:0 / /m rw - ext3\n')).toEqual([]); // no source, no super options
  });
});

function mountsAt(mounts: Mount[], mountPoint: string): Mount | undefined {
  return mounts.find((m) => m.mountPoint === mountPoint);
}

describe('pidsCgroupCandidates', () => {
  test('v1 hybrid, cgroupfs driver (real capture): the v1 pids hierarchy comes first, the unified tree second', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.pids-limit-25.txt'));
    expect(pidsCgroupCandidates(cg, v1Mounts())).toEqual([
      { dir: `/sys/fs/cgroup/pids/docker/${LIMITED_ID}`, version: 1, top: '/sys/fs/cgroup/pids' },
      { dir: `/sys/fs/cgroup/unified/docker/${LIMITED_ID}`, version: 2, top: '/sys/fs/cgroup/unified' },
    ]);
  });

  test('v1 hybrid with --cgroup-parent /custom/parent (real capture): the dir follows the parent, not /docker', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.cgroup-parent.txt'));
    const candidates = pidsCgroupCandidates(cg, v1Mounts());
    expect(candidates[0]).toEqual({ dir: `/sys/fs/cgroup/pids/custom/parent/${PARENT_ID}`, version: 1, top: '/sys/fs/cgroup/pids' });
    expect(candidates[1]).toEqual({ dir: `/sys/fs/cgroup/unified/custom/parent/${PARENT_ID}`, version: 2, top: '/sys/fs/cgroup/unified' });
    expect(candidates).toHaveLength(2);
  });

  test('only the hierarchy carrying the pids controller is used, not cpu, memory or name=systemd', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.pids-limit-25.txt'));
    const v1Dirs = pidsCgroupCandidates(cg, v1Mounts()).filter((c) => c.version === 1);
    expect(v1Dirs.map((c) => c.dir)).toEqual([`/sys/fs/cgroup/pids/docker/${LIMITED_ID}`]);
  });

  test('pure v2, Docker 26 with the systemd driver (real capture): one candidate, the scope under /sys/fs/cgroup', () => {
    const cg = parseProcCgroup(fixture(V2, 'proc-pid-cgroup.txt'));
    expect(pidsCgroupCandidates(cg, v2Mounts())).toEqual([
      { dir: `/sys/fs/cgroup/system.slice/docker-${V2_ID}.scope`, version: 2, top: '/sys/fs/cgroup' },
    ]);
    expect(`/sys/fs/cgroup/system.slice/docker-${V2_ID}.scope`).toBe(/^cgroup dir: (.*)$/m.exec(fixture(V2, 'meta.txt'))![1]!);
  });

  test('pure v2, Podman 5 (real capture): the `container` leaf, where crun puts the processes and the limit', () => {
    const cg = parseProcCgroup(fixture(PODMAN, 'proc-pid-cgroup.txt'));
    const dir = `/sys/fs/cgroup/machine.slice/libpod-${PODMAN_ID}.scope/container`;
    expect(pidsCgroupCandidates(cg, parseMountinfo(fixture(PODMAN, 'proc-self-mountinfo.txt')))).toEqual([{ dir, version: 2, top: '/sys/fs/cgroup' }]);
    expect(dir).toBe(/^cgroup dir: (.*)$/m.exec(fixture(PODMAN, 'meta.txt'))![1]!);
  });

  test('pure v2, Docker 20.10 with the cgroupfs driver (real capture): /sys/fs/cgroup/docker/<id>', () => {
    const cg = parseProcCgroup(fixture(V2_CGROUPFS, 'proc-pid-cgroup.txt'));
    const dir = `/sys/fs/cgroup/docker/${CGROUPFS_ID}`;
    expect(pidsCgroupCandidates(cg, parseMountinfo(fixture(V2_CGROUPFS, 'proc-self-mountinfo.txt')))).toEqual([{ dir, version: 2, top: '/sys/fs/cgroup' }]);
    expect(dir).toBe(/^cgroup dir: (.*)$/m.exec(fixture(V2_CGROUPFS, 'meta.txt'))![1]!);
  });

  test('no cgroup mounts at all: no candidates', () => {
    const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.pids-limit-25.txt'));
    expect(pidsCgroupCandidates(cg, [])).toEqual([]);
  });

  describe('a mount whose root is not "/" (pidwarden itself in a container)', () => {
    // A container without its own cgroup namespace sees its own cgroup bind-mounted: field 4 is
    // that cgroup's path, and only paths below it are reachable through the mount point.
    const SELF = '/docker/413b2c18d2fdcd78a88ff35c9f554e14ad696d2903d929fd0e08c7f265492a5f';
    const mounts = parseMountinfo(
      [
        `1230 1229 0:36 ${SELF} /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime master:19 - cgroup cgroup rw,pids`,
        `1231 1229 0:38 ${SELF} /sys/fs/cgroup/unified ro,nosuid,nodev,noexec,relatime master:21 - cgroup2 cgroup2 rw`,
      ].join('\n'),
    );

    test('a cgroup below the mount root is found relative to the mount point', () => {
      const cg = parseProcCgroup(`8:pids:${SELF}/child\n0::${SELF}/child\n`);
      expect(pidsCgroupCandidates(cg, mounts)).toEqual([
        { dir: '/sys/fs/cgroup/pids/child', version: 1, top: '/sys/fs/cgroup/pids' },
        { dir: '/sys/fs/cgroup/unified/child', version: 2, top: '/sys/fs/cgroup/unified' },
      ]);
    });

    test('the mount root itself maps to the mount point', () => {
      const cg = parseProcCgroup(`8:pids:${SELF}\n`);
      expect(pidsCgroupCandidates(cg, mounts)).toEqual([{ dir: '/sys/fs/cgroup/pids', version: 1, top: '/sys/fs/cgroup/pids' }]);
    });

    test('another container, outside the mounted subtree, is not reachable: no candidate', () => {
      const cg = parseProcCgroup(`8:pids:/docker/${LIMITED_ID}\n0::/docker/${LIMITED_ID}\n`);
      expect(pidsCgroupCandidates(cg, mounts)).toEqual([]);
    });

    test('a sibling whose name merely starts with the root is outside it', () => {
      const cg = parseProcCgroup(`8:pids:${SELF}-sibling\n`);
      expect(pidsCgroupCandidates(cg, mounts)).toEqual([]);
    });
  });

  describe('--cgroup-root override: mountinfo is not trusted, the usual layouts under the root are tried', () => {
    test('v1 hybrid: <root>/pids/<path> first, then the two v2 layouts', () => {
      const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.pids-limit-25.txt'));
      expect(pidsCgroupCandidates(cg, v1Mounts(), '/host/sys/fs/cgroup')).toEqual([
        { dir: `/host/sys/fs/cgroup/pids/docker/${LIMITED_ID}`, version: 1, top: '/host/sys/fs/cgroup/pids' },
        { dir: `/host/sys/fs/cgroup/docker/${LIMITED_ID}`, version: 2, top: '/host/sys/fs/cgroup' },
        { dir: `/host/sys/fs/cgroup/unified/docker/${LIMITED_ID}`, version: 2, top: '/host/sys/fs/cgroup/unified' },
      ]);
    });

    test('pure v2: <root>/<path>, then <root>/unified/<path>', () => {
      const cg = parseProcCgroup(fixture(V2, 'proc-pid-cgroup.txt'));
      expect(pidsCgroupCandidates(cg, [], '/host/cgroup')).toEqual([
        { dir: `/host/cgroup/system.slice/docker-${V2_ID}.scope`, version: 2, top: '/host/cgroup' },
        { dir: `/host/cgroup/unified/system.slice/docker-${V2_ID}.scope`, version: 2, top: '/host/cgroup/unified' },
      ]);
    });

    test('trailing slashes on the root and doubled slashes do not leak into the dirs', () => {
      const cg = parseProcCgroup('8:pids:/docker/abc\n');
      expect(pidsCgroupCandidates(cg, [], '/host/cgroup///')).toEqual([{ dir: '/host/cgroup/pids/docker/abc', version: 1, top: '/host/cgroup/pids' }]);
    });

    test('the override wins over mountinfo even when mountinfo has the hierarchy', () => {
      const cg = parseProcCgroup(fixture(V1, 'proc-pid-cgroup.cgroup-parent.txt'));
      const dirs = pidsCgroupCandidates(cg, v1Mounts(), '/cg').map((c) => c.dir);
      expect(dirs.every((d) => d.startsWith('/cg/'))).toBe(true);
      expect(dirs[0]).toBe(`/cg/pids/custom/parent/${PARENT_ID}`);
    });

    test('a v2 root cgroup ("0::/") gives the root itself', () => {
      expect(pidsCgroupCandidates(parseProcCgroup('0::/\n'), [], '/cg')).toEqual([
        { dir: '/cg', version: 2, top: '/cg' },
        { dir: '/cg/unified', version: 2, top: '/cg/unified' },
      ]);
    });
  });
});

describe('parsePidsValue', () => {
  test('real captures: "25" is a limit, "max" is no limit (null), pids.current is a number', () => {
    expect(parsePidsValue(fixture(V1, 'pids.max.limit-25.txt'))).toBe(25);
    expect(parsePidsValue(fixture(V1, 'pids.max.unlimited.txt'))).toBeNull();
    expect(parsePidsValue(fixture(V1, 'pids.current.txt'))).toBe(1);
  });

  test('real v2 captures (--pids-limit 40, 7 single-threaded processes; a container without a limit)', () => {
    for (const dir of [V2, PODMAN, V2_CGROUPFS]) {
      expect({ dir, max: parsePidsValue(fixture(dir, 'pids.max.txt')), current: parsePidsValue(fixture(dir, 'pids.current.txt')) }).toEqual({ dir, max: 40, current: 7 });
    }
    // without --pids-limit: "max" with cgroupfs and under Podman; with the systemd driver Docker 26
    // leaves the scope at systemd's DefaultTasksMax (15% of the guest's threads-max): a real limit
    expect(parsePidsValue(fixture(V2_CGROUPFS, 'pids.max.no-limit.txt'))).toBeNull();
    expect(parsePidsValue(fixture(PODMAN, 'pids.max.no-limit.txt'))).toBeNull();
    expect(parsePidsValue(fixture(V2, 'pids.max.no-limit.txt'))).toBe(4686);
  });

  test('surrounding whitespace and the trailing newline are ignored; 0 is a real value', () => {
    expect(parsePidsValue('  4194304 \n')).toBe(4194304);
    expect(parsePidsValue('0\n')).toBe(0);
    expect(parsePidsValue('max\n')).toBeNull();
  });

  test('anything that is not a plain decimal count is unknown (null), never a number', () => {
    for (const bad of ['', '\n', '   ', '-1', '1.5', 'abc', 'MAX', '0x19', '1e3', '25 26', '9007199254740993']) {
      expect({ input: bad, value: parsePidsValue(bad) }).toEqual({ input: bad, value: null });
    }
  });
});

describe('parsePidList', () => {
  test('real capture of cgroup.procs', () => {
    expect(parsePidList(fixture(V1, 'cgroup.procs.txt'))).toEqual([6811]);
  });

  test('real v2 captures of cgroup.procs: the init and two trees of three', () => {
    for (const dir of [V2, PODMAN, V2_CGROUPFS]) {
      const pids = parsePidList(fixture(dir, 'cgroup.procs.txt'));
      expect({ dir, n: pids.length, first: pids[0] }).toEqual({ dir, n: 7, first: Number(/^init pid: (\d+)$/m.exec(fixture(dir, 'meta.txt'))![1]) });
    }
  });

  test('empty file (an empty cgroup) gives no PIDs', () => {
    expect(parsePidList('')).toEqual([]);
    expect(parsePidList('\n')).toEqual([]);
  });

  test('lines that are not PIDs are skipped: 0, leading zeros, signs, spaces, words', () => {
    expect(parsePidList('1\n0\n007\n-5\n+6\n 7\n8 \nabc\n12345\n')).toEqual([1, 12345]);
  });

  test('order is kept and duplicates are not merged (the caller decides)', () => {
    expect(parsePidList('30\n10\n30\n')).toEqual([30, 10, 30]);
  });
});

describe('memoryFromCgroup (v1 files captured from containers run with -m 256m and without)', () => {
  const D = join(import.meta.dir, '..', 'fixtures', 'cgroup', 'v1-hybrid-cgroupfs');
  const read = (f: string) => readFileSync(join(D, f), 'utf8');
  const HOST = 24682416 * 1024; // MemTotal of the capture host

  test('limited: usage minus total_inactive_file, the limit as set (the API said usage 811008, limit 268435456)', () => {
    const m = memoryFromCgroup(read('memory.usage_in_bytes.mem1.txt'), read('memory.stat.mem1.txt'), read('memory.limit_in_bytes.mem1.txt'), 1, HOST);
    expect(m).toEqual({ usageBytes: 811008, limitBytes: 268435456 });
  });

  test('unlimited (9223372036854771712): the host memory is the limit, as the engine reports it', () => {
    const m = memoryFromCgroup(read('memory.usage_in_bytes.mem2.txt'), read('memory.stat.mem2.txt'), read('memory.limit_in_bytes.mem2.txt'), 1, HOST);
    expect(m?.limitBytes).toBe(HOST);
  });

  test('v2: inactive_file subtracted, "max" is unlimited', () => {
    expect(memoryFromCgroup('1000\n', 'anon 10\ninactive_file 300\n', 'max\n', 2, HOST)).toEqual({ usageBytes: 700, limitBytes: HOST });
  });

  test('v2 real capture, Docker 20.10 cgroupfs, no memory limit: memory.current (no inactive file pages), the host is the limit', () => {
    const m = memoryFromCgroup(fixture(V2_CGROUPFS, 'memory.current.txt'), fixture(V2_CGROUPFS, 'memory.stat.txt'), fixture(V2_CGROUPFS, 'memory.max.txt'), 2, HOST);
    expect(m).toEqual({ usageBytes: 1527808, limitBytes: HOST });
  });

  test('v2 real captures, Docker 26 and Podman 5 with --memory 256m: memory.current, and memory.max as the limit', () => {
    const m = (dir: string) => memoryFromCgroup(fixture(dir, 'memory.current.txt'), fixture(dir, 'memory.stat.txt'), fixture(dir, 'memory.max.txt'), 2, HOST);
    expect(m(V2)).toEqual({ usageBytes: 1224704, limitBytes: 268435456 });
    expect(m(PODMAN)).toEqual({ usageBytes: 1114112, limitBytes: 268435456 });
  });

  test('garbage gives null', () => {
    expect(memoryFromCgroup('', '', '', 1, HOST)).toBeNull();
  });
});

describe('parseCpuUsageNs', () => {
  test('v1 cpuacct.usage is ns; v2 cpu.stat usage_usec is µs', () => {
    expect(parseCpuUsageNs('26276190\n', 1)).toBe(26276190);
    expect(parseCpuUsageNs('usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n', 2)).toBe(1_500_000);
    expect(parseCpuUsageNs('', 1)).toBeNull();
    expect(parseCpuUsageNs('user_usec 3\n', 2)).toBeNull();
  });

  test('v2 real captures: usage_usec (µs) among cpu.stat\'s eight lines', () => {
    expect(parseCpuUsageNs(fixture(V2_CGROUPFS, 'cpu.stat.txt'), 2)).toBe(1195760 * 1000);
    expect(parseCpuUsageNs(fixture(V2, 'cpu.stat.txt'), 2)).toBe(1645847 * 1000);
    expect(parseCpuUsageNs(fixture(PODMAN, 'cpu.stat.txt'), 2)).toBe(657438 * 1000);
  });
});
