// pidwarden's own container (src/observe/own-container.ts): the IDs in /proc/self/cgroup and
// /proc/self/mountinfo, on captures: `cat /proc/self/cgroup /proc/self/mountinfo` in a busybox
// container of this project's private engines (cgroup v1 host), verbatim.
import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containersInOurMountNamespace, parseOwnContainerIds } from '../../src/observe/own-container.ts';

// Docker 20.10.24, cgroupfs driver, `docker run --rm --network none busybox` (ID 7a2f8b2d…)
const DOCKER20_CGROUP = `9:name=systemd:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
8:pids:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
7:blkio:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
6:freezer:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
5:devices:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
4:memory:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
3:cpuset:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
2:cpuacct:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
1:cpu:/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
0::/docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4
`;
const DOCKER20_MOUNTINFO = `76 49 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/work/main/.tmp/dockerd/data/overlay2/l/7BXCUNB7DZSKU3FIXPROJSNUH7:/work/main/.tmp/dockerd/data/overlay2/l/JZQMQFK7J5VUHKWTCIRCV66XXC,upperdir=/work/main/.tmp/dockerd/data/overlay2/4b71f9c6e6ebbdc847e2fac8ad0a966f579ed7915c4183572fff75fb5662c380/diff,workdir=/work/main/.tmp/dockerd/data/overlay2/4b71f9c6e6ebbdc847e2fac8ad0a966f579ed7915c4183572fff75fb5662c380/work
77 76 0:42 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
78 76 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
79 78 0:44 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
80 76 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
81 80 0:46 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
82 81 0:29 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
83 81 0:30 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
84 81 0:31 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuset
85 81 0:32 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
86 81 0:33 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/devices ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,devices
87 81 0:34 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/freezer ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,freezer
88 81 0:35 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/blkio ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,blkio
89 81 0:36 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
90 81 0:37 /docker/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4 /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd
91 78 0:41 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
92 78 0:47 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
93 76 254:0 /work/main/.tmp/dockerd/data/containers/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
94 76 254:0 /work/main/.tmp/dockerd/data/containers/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
95 76 254:0 /work/main/.tmp/dockerd/data/containers/7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
50 77 0:42 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
51 77 0:42 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc rw
52 77 0:42 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc rw
53 77 0:42 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
54 77 0:48 / /proc/acpi ro,relatime - tmpfs tmpfs ro
55 77 0:43 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
56 77 0:43 /null /proc/timer_list rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
57 80 0:49 / /sys/firmware ro,relatime - tmpfs tmpfs ro
`;
// Podman 4.3.1, `podman run --rm --pod rvcap busybox` (container 897270d7…, pod db6d5112…)
const PODMAN43_CGROUP = `9:name=systemd:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
8:pids:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
7:blkio:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
6:freezer:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
5:devices:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
4:memory:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
3:cpuset:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
2:cpuacct:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
1:cpu:/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
0::/libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf
`;
const PODMAN43_MOUNTINFO = `113 64 0:51 / / rw,relatime - overlay overlay rw,lowerdir=/work/main/.tmp/podman/root/overlay/l/HTTNZP7WRIBHGWU62VV4NJ23AX,upperdir=/work/main/.tmp/podman/root/overlay/dad0db1f4d9d648b36ae1fa63beca4df207b1f73c4476805166689c20ef06012/diff,workdir=/work/main/.tmp/podman/root/overlay/dad0db1f4d9d648b36ae1fa63beca4df207b1f73c4476805166689c20ef06012/work,uuid=on,fsync=volatile
114 113 0:53 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
115 113 0:54 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
116 113 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
117 115 0:55 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
118 115 0:42 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
119 113 254:0 /work/main/.tmp/podman/run/runroot/overlay-containers/897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf/userdata/.containerenv /run/.containerenv rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
120 113 254:0 /work/main/.tmp/podman/run/runroot/overlay-containers/897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf/userdata/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
121 113 254:0 /work/main/.tmp/podman/run/runroot/overlay-containers/897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf/userdata/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
122 115 0:39 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=64000k
123 116 0:56 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
124 123 0:29 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
125 123 0:30 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
126 123 0:31 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuset
127 123 0:32 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
128 123 0:33 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/devices ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,devices
129 123 0:34 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/freezer ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,freezer
130 123 0:35 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/blkio ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,blkio
131 123 0:36 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
132 123 0:37 /libpod_parent/db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2/libpod-897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd
65 114 0:53 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
66 114 0:53 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc rw
67 114 0:53 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc rw
68 114 0:53 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
69 114 0:57 / /proc/acpi ro,relatime - tmpfs tmpfs ro
70 114 0:54 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
71 114 0:54 /null /proc/timer_list rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
72 116 0:58 / /sys/firmware ro,relatime - tmpfs tmpfs ro
73 116 0:59 / /sys/dev/block ro,relatime - tmpfs tmpfs ro
`;
// a login shell on a systemd host (cgroup v2), in no container: a UUID and a 32-hex segment
const HOST_CGROUP = `0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-5f1c9e9a-3b1d-4c8b-9a55-2f7e0f0c1d2e.scope
`;
const HOST_CGROUP_32HEX = `4:memory:/machine.slice/d1f0c3a2b4e5f60718293a4b5c6d7e8f
0::/
`;

const DOCKER_ID = '7a2f8b2d5c740203a4cb2308a23adeae9ab791041cb68a5c340092f7032dd4a4';
const PODMAN_ID = '897270d7a15fc7ededc72eb600c4d19ba143b4641c1485c42c7b495385e3bbbf';
const POD_ID = 'db6d511256c50cdfe9a0f21bfb1265bbae8b232d92b3f190dd26c9f14a6746d2';

describe('parseOwnContainerIds', () => {
  test('Docker: the cgroup path and the hostname/hosts/resolv.conf mounts name the container', () => {
    expect(parseOwnContainerIds(DOCKER20_CGROUP, DOCKER20_MOUNTINFO)).toEqual([DOCKER_ID]);
    expect(parseOwnContainerIds(DOCKER20_CGROUP, '')).toEqual([DOCKER_ID]);
  });
  test('a private cgroup namespace (cgroup v2 default: /proc/self/cgroup reads 0::/): the mounts alone', () => {
    expect(parseOwnContainerIds('0::/\n', DOCKER20_MOUNTINFO)).toEqual([DOCKER_ID]);
    expect(parseOwnContainerIds('0::/\n', PODMAN43_MOUNTINFO)).toEqual([PODMAN_ID]);
  });
  test("Podman in a pod: the container's ID from both; the pod's ID from the cgroup path too (no container: harmless)", () => {
    expect(parseOwnContainerIds(PODMAN43_CGROUP, PODMAN43_MOUNTINFO)).toEqual([PODMAN_ID, POD_ID].sort());
  });
  test('systemd cgroup driver and docker:dind paths', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    expect(parseOwnContainerIds(`0::/system.slice/docker-${a}.scope\n`, '')).toEqual([a]);
    expect(parseOwnContainerIds(`0::/docker/${a}/docker/${b}\n`, '')).toEqual([a, b]);
  });
  test('on a host: none (a 32-hex cgroup segment is no container ID)', () => {
    expect(parseOwnContainerIds(HOST_CGROUP, '')).toEqual([]);
    expect(parseOwnContainerIds(HOST_CGROUP_32HEX, '')).toEqual([]);
    expect(parseOwnContainerIds('', '')).toEqual([]);
  });
  test('a bind mount of the whole containers directory (a log shipper) names no container', () => {
    const line = `300 76 254:0 /var/lib/docker/containers /var/lib/docker/containers ro,relatime - ext4 /dev/vda rw\n`;
    expect(parseOwnContainerIds('0::/\n', line)).toEqual([]);
  });
});

// `--network container:X` (compose `network_mode: service:X`): Docker mounts X's hostname, hosts
// and resolv.conf into pidwarden's container, and on cgroup v2 /proc/self/cgroup reads `0::/`, so
// the files name X only. The third witness: the container whose init shares our mount namespace.
describe('containersInOurMountNamespace', () => {
  const OWN = '1'.repeat(64);
  const X = '2'.repeat(64);
  const NETWORK_SHARED_MOUNTINFO = ['resolv.conf', 'hostname', 'hosts']
    .map((f, i) => `${600 + i} 590 8:1 /var/lib/docker/containers/${X}/${f} /etc/${f} rw,relatime - ext4 /dev/sda1 rw`)
    .join('\n');

  test('the files name only X; the init in our mount namespace names pidwarden\'s own container', async () => {
    expect(parseOwnContainerIds('0::/\n', `${NETWORK_SHARED_MOUNTINFO}\n`)).toEqual([X]);
    const procRoot = mkdtempSync(join(tmpdir(), 'pw-own-mnt-'));
    try {
      // a /proc with each init's ns/mnt link: ours for our own container's init, another for X's
      for (const [pid, target] of [[501, readlinkSync('/proc/self/ns/mnt')], [502, 'mnt:[4026530001]']] as const) {
        mkdirSync(join(procRoot, String(pid), 'ns'), { recursive: true });
        symlinkSync(target, join(procRoot, String(pid), 'ns', 'mnt'));
      }
      const inits = [{ id: OWN, initPid: 501 }, { id: X, initPid: 502 }, { id: '3'.repeat(64), initPid: 503 }, { id: '4'.repeat(64), initPid: 0 }];
      expect(await containersInOurMountNamespace(inits, procRoot)).toEqual([OWN]);
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});
