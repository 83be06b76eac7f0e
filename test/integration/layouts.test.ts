/**
 * The right process on every runtime layout (README "Runtimes and layouts"), against the private
 * engine and compared with the kernel:
 *   (`--pid=host`, `--pid=container:X` and a nested PID namespace are in test/lanes/layouts.test.ts,
 *   which every lane runs)
 *   - a container started with a USER whose storm runs as another uid: cleaned locally (host
 *     route) and through a remote engine (exec `kill` as root);
 *   - a local cleanup signals through the host with a pidfd; a dry run reports that route;
 *   - pidwarden in a PID namespace of its own (unshare) reading the host's /proc: its cgroup.procs
 *     lists nothing there, so ps and kill run in the container, and a --pid=host one is refused;
 *   - inner containers in a nested PID namespace (unshare -fp, as docker:dind's) whose init is
 *     `npm exec X`: never deduped, with ps and from the host;
 *   - a container another joined with --pid=container:X is never restarted (its init's death
 *     would kill the joiner's processes): restart-skipped names the joiner.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RUN_ID,
  cgroupDir,
  cgroupProcs,
  describeEngine,
  docker,
  dockerOk,
  engine,
  hostProcsOfContainer,
  IMAGES,
  isNpm,
  PIDWARDEN_BIN,
  REPO_ROOT,
  liveChains,
  outcome,
  pidsFiles,
  pidwardenEnv,
  readHostProc,
  readJsonl,
  runPidwarden,
  startHostTree,
  startWorkload,
  waitFor,
  waitForChains,
  waitForChainsAndThreads,
} from './harness.ts';
import { auditJson, cgroupMembers, cleanup, isAlive, isDead, jsonl, kills, liveIdentities, runContainer, type Line } from './layout-kit.ts';
import { MAGIC, MAGIC_TITLE } from './packages.ts';

setDefaultTimeout(90_000);

const TCP = process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '';

/** The engine leaves the parent it created in every hierarchy: removed once its containers are gone. */
function removeCgroupParent(parent: string): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      rmdirSync(join('/sys/fs/cgroup', h, parent));
    } catch {
      /* not there, or not a v1 hierarchy */
    }
  }
}

/** `monitor` of one container, a quarter-second cycle, its JSONL to `log`. */
function spawnMonitor(container: string, log: string): ReturnType<typeof Bun.spawn> {
  return Bun.spawn([PIDWARDEN_BIN, 'monitor', '--container', container, '--interval', '0.25', '--grace', '1', '--log-file', log], {
    cwd: REPO_ROOT,
    env: { DOCKER_HOST: engine.host! },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
}

describeEngine('a USER image whose storm runs as another uid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pidwarden-user-'));
  const tag = `pidwarden-test/${RUN_ID}-user`;
  afterAll(() => {
    docker('rmi', '-f', tag);
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The busybox test image with its workload binary setuid root and `USER 1000`: PID 1 runs as
   * uid 1000 and can still start the storm as uid 2000 (the `uid:` item), the way a root-started
   * supervisor drops to a service user. An exec as the image's user (1000) cannot signal uid 2000.
   */
  function userImage(): string {
    const mk = `${RUN_ID}-mkuser`;
    dockerOk('run', '--name', mk, '--network', 'none', '--entrypoint', '/bin/chmod', IMAGES.busybox, 'u+s', '/usr/local/bin/node');
    const tar = join(dir, 'rootfs.tar');
    dockerOk('export', '-o', tar, mk);
    docker('rm', '-f', mk);
    dockerOk('import', '-c', 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', '-c', 'WORKDIR /app', '-c', 'ENTRYPOINT ["node"]', '-c', 'CMD ["dist/index.js"]', '-c', 'USER 1000', tar, tag);
    return tag;
  }

  test('cleaned locally (host route) and through a remote engine (kill exec as root); every duplicate of uid 2000 dead', async () => {
    const image = userImage();
    for (const where of ['local', 'remote'] as const) {
      const w = runContainer(`user-${where}`, [], image, ['dist/index.js', '--interval=0.05', `proc/uid:2000/x4=|${MAGIC_TITLE}`]);
      const storm = await waitFor(() => {
        // real uid 2000 (the setuid binary keeps euid 0: an exec as uid 1000 still cannot signal them)
        const ps = cgroupMembers(w).filter((p) => p.argv[0] === MAGIC_TITLE && p.uid === 2000);
        return ps.length === 4 ? ps : null;
      }, 15_000, 50, 'four uid-2000 duplicates');
      expect(dockerOk('inspect', '-f', '{{.Config.User}}', w.id)).toBe('1000');
      const init = readHostProc(w.initPid)!;
      expect(init.uid).toBe(1000);
      const args = ['--container', w.name, '--grace', '2', '--max-procs', '3'];
      const r = await cleanup(where === 'remote' ? ['--docker-host', TCP, ...args] : args);
      const ks = kills(r.lines);
      expect(ks.length).toBeGreaterThan(0);
      for (const l of ks) expect(l.via).toBe(where === 'local' ? 'host' : 'exec');
      expect(r.lines.filter((l) => l.event === 'error')).toEqual([]);
      const oldest = [...storm].sort((a, b) => a.startTicks - b.startTicks);
      for (const p of oldest.slice(0, 3)) expect(isDead(p)).toBe(true);
      expect(isAlive(oldest[3]!)).toBe(true);
      expect(r.code).toBe(0);
    }
  });
});

describeEngine('routes: the host with a pidfd locally, and the dry run says so', () => {
  test('a local cleanup signals through pidfds; --dry-run logs the same route and leaves every process alive', async () => {
    const w = await startWorkload({ image: 'toybox', name: 'route', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const before = await waitForChains(w, 3);
    const dry = await cleanup(['--container', w.name, '--dry-run', '--max-procs', '5', '--grace', '0.5']);
    expect(dry.code).toBe(1);
    const dk = kills(dry.lines);
    expect(dk.length).toBeGreaterThan(0);
    for (const l of dk) expect({ via: l.via, dryRun: l.dryRun }).toEqual({ via: 'host', dryRun: true });
    expect(liveIdentities(hostProcsOfContainer(w))).toEqual(liveIdentities(before));

    const real = await cleanup(['--container', w.name, '--max-procs', '5', '--grace', '2']);
    expect(real.code).toBe(0);
    const rk = kills(real.lines);
    for (const l of rk) expect({ via: l.via, pidfd: l.pidfd }).toEqual({ via: 'host', pidfd: true });
    // one line per route and tree level: deepest (node, depth 2) first
    expect(rk[0]!.depth).toBe(2);
    expect(new Set(rk.map((l) => `${l.signal}@${l.depth}`)).size).toBe(rk.length);
  });
});

describeEngine('locality: an init PID that is not the engine\'s', () => {
  test('a --proc-root where the init PID is another process: treated as remote (exec only), SOURCE says so, and cleaned through exec', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'elsewhere', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const before = await waitForChains(w, 3);
    // a /proc in which State.Pid is the host's PID 1, started at boot, long before the container:
    // what a PID from another machine or VM (Docker Desktop, colima, an ssh-forwarded socket) looks like
    const fake = mkdtempSync(join(tmpdir(), 'pidwarden-proc-'));
    try {
      symlinkSync('/proc/stat', join(fake, 'stat'));
      symlinkSync('/proc/self', join(fake, 'self'));
      symlinkSync('/proc/1', join(fake, String(w.initPid)));
      const a = await auditJson(['--container', w.name, '--proc-root', fake]);
      const c = a.doc.containers[0];
      expect(c.layout.local).toBe(false);
      expect(c.layout.remoteReason).toContain('not its init');
      expect(c.pids.source).toBe('api');
      expect(c.processes.source).toBe('ps');
      expect(c.processes.total).toBe(before.length);
      const table = await runPidwarden(['audit', '--container', w.name, '--proc-root', fake]);
      expect(table.stdout).toContain('ps/api (remote)');
      expect(table.stdout).toContain('host view not used');

      const r = await cleanup(['--container', w.name, '--proc-root', fake, '--max-procs', '5', '--grace', '2']);
      const ks = kills(r.lines);
      expect(ks.length).toBeGreaterThan(0);
      for (const l of ks) {
        expect(l.via).toBe('exec');
        expect(l.hostPids).toBeUndefined();
      }
      const magic = liveChains(before).sort((x, y) => x.npm.startTicks - y.npm.startTicks);
      for (const ch of magic.slice(0, 2)) for (const p of [ch.npm, ch.sh!, ch.node!]) expect(isDead(p)).toBe(true);
      for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) expect(isAlive(p)).toBe(true);
      expect(r.code).toBe(0);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});

describeEngine('locality on a loaded host: an init forked long before the engine\'s StartedAt', () => {
  test('runc start 12 s after runc create (test/workload/slow-start-runtime): still this host\'s container, read and signalled from the host', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'slowstart', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }], runArgs: ['--runtime', 'pidwarden-slow-start'] });
    const before = await waitForChains(w, 3);
    // the kernel's truth: the init's fork time (btime + starttime ticks) against the engine's StartedAt and Created
    const init = readHostProc(w.initPid)!;
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    const forkedMs = btime * 1000 + init.startTicks * 10;
    const [startedAt, created] = dockerOk('inspect', '-f', '{{.State.StartedAt}} {{.Created}}', w.id).split(' ');
    expect(Date.parse(startedAt!) - forkedMs).toBeGreaterThan(11_000);
    expect(forkedMs).toBeGreaterThan(Date.parse(created!) - 1_000);

    const c = (await auditJson(['--container', w.name, '--proc-source', 'host'])).doc.containers[0];
    expect({ local: c.layout.local, remoteReason: c.layout.remoteReason }).toEqual({ local: true, remoteReason: undefined });
    expect(c.processes.source).toBe('host-proc');
    expect(c.processes.total).toBe(before.length);
    const r = await cleanup(['--container', w.name, '--max-procs', '5', '--grace', '2']);
    const ks = kills(r.lines);
    expect(ks.length).toBeGreaterThan(0);
    for (const l of ks) expect(l.via).toBe('host');
    const magic = liveChains(before).sort((x, y) => x.npm.startTicks - y.npm.startTicks);
    for (const ch of magic.slice(0, 2)) for (const p of [ch.npm, ch.sh!, ch.node!]) expect(isDead(p)).toBe(true);
    for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) expect(isAlive(p)).toBe(true);
    expect(r.code).toBe(0);
  });
});

describeEngine('the container\'s cgroup: named after its ID, the effective limit from the way up', () => {
  test('docker:dind moves PID 1 into <id>/init: the container is still found by its ID, counted whole, cleaned', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'init-leaf', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    await waitForChains(w, 3);
    const dir = cgroupDir(w);
    const leaf = join(dir, 'init');
    mkdirSync(leaf);
    try {
      writeFileSync(join(leaf, 'cgroup.procs'), String(w.initPid));
      expect(readFileSync(`/proc/${w.initPid}/cgroup`, 'utf8')).toContain(`pids:/docker/${w.id}/init`);
      const c = (await auditJson(['--container', w.name])).doc.containers[0];
      expect(c.layout.local).toBe(true);
      expect(c.pids.source).toBe('cgroup-v1');
      // the container's cgroup, not the init's leaf (which holds PID 1's threads alone)
      expect(c.pids.current).toBe(Number(readFileSync(join(dir, 'pids.current'), 'utf8')));
      expect(c.pids.current).toBeGreaterThan(Number(readFileSync(join(leaf, 'pids.current'), 'utf8')));
      expect(c.processes.total).toBe(hostProcsOfContainer(w).length);
      const r = await cleanup(['--container', w.name, '--max-procs', '5', '--grace', '2']);
      expect(r.code).toBe(0);
      for (const l of kills(r.lines)) expect(l.via).toBe('host');
    } finally {
      // back into the container's cgroup, so that the engine can remove it as it made it
      if (existsSync(leaf)) {
        for (const p of readFileSync(join(leaf, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(dir, 'cgroup.procs'), p);
        rmdirSync(leaf);
      }
    }
  });

  test('a --cgroup-parent limit bites like the container\'s own: the audit takes the smallest pids.max on the way up', async () => {
    const parent = `/${RUN_ID}-parent`;
    const w = await startWorkload({ image: 'busybox', name: 'parent-limit', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 2 }], runArgs: ['--cgroup-parent', parent] });
    await waitForChains(w, 2);
    const dir = cgroupDir(w);
    const parentDir = dir.slice(0, dir.lastIndexOf('/'));
    expect(parentDir.endsWith(parent)).toBe(true);
    try {
      writeFileSync(join(parentDir, 'pids.max'), '500');
      const c = (await auditJson(['--container', w.name])).doc.containers[0];
      // the container's own pids.max is "max"; its parent's 500 is what holds it
      expect(pidsFiles(w).max).toBe('max');
      expect(c.pids.max).toBe(500);
      expect(c.reasons.join('\n')).not.toContain('no pids limit');
    } finally {
      docker('rm', '-f', w.id);
      removeCgroupParent(parent);
    }
  });
});

describeEngine('a container under another\'s cgroup (--cgroup-parent), in a PID namespace of its own', () => {
  test("the owner's audit and cleanup leave the guest's processes out: its PIDs collide with the owner's but are not the owner's", async () => {
    const owner = await startWorkload({ image: 'busybox', name: 'cg-owner', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const ownerBefore = liveChains(await waitForChains(owner, 3)).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    // the owner's cgroup path, as /proc/<init>/cgroup names it (e.g. /docker/<ID>): the guest's parent
    const path = (readFileSync(`/proc/${owner.initPid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:pids:/.test(l)) ?? '').split(':')[2]!;
    expect(path).toContain(owner.id);
    const guest = await startWorkload({ image: 'busybox', name: 'cg-guest', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }], runArgs: ['--cgroup-parent', path] });
    try {
      await waitForChains(guest, 3);
      // the guest's processes are in the owner's cgroup subtree
      expect(cgroupDir(guest).startsWith(`${cgroupDir(owner)}/`)).toBe(true);
      const guestBefore = liveIdentities(hostProcsOfContainer(guest));
      for (const source of ['ps', 'host']) {
        const c = (await auditJson(['--container', owner.name, '--proc-source', source])).doc.containers[0];
        expect({ source, total: c.processes.total, matching: c.processes.matching }).toEqual({ source, total: hostProcsOfContainer(owner).length, matching: 3 });
      }
      const r = await cleanup(['--container', owner.name, '--max-procs', '5', '--grace', '2']);
      expect(r.code).toBe(0);
      await waitFor(() => ownerBefore.slice(0, 2).every((ch) => [ch.npm, ch.sh!, ch.node!].every(isDead)), 10_000, 50, "the owner's two oldest trees gone");
      for (const p of [ownerBefore[2]!.npm, ownerBefore[2]!.sh!, ownerBefore[2]!.node!]) expect(isAlive(p)).toBe(true);
      // kernel truth: every process of the guest lives on
      const guestNow = new Set(liveIdentities(hostProcsOfContainer(guest)));
      expect(guestBefore.filter((p) => !guestNow.has(p))).toEqual([]);
    } finally {
      // the guest first: the owner's cgroup cannot go while the guest's is inside it
      docker('rm', '-f', guest.id);
    }
  });

  test("a guest that joined the owner's PID namespace too (--pid=container:owner): its processes pass the namespace check, and are still not the owner's", async () => {
    const owner = await startWorkload({ image: 'busybox', name: 'cg-owner-joined', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const ownerBefore = liveChains(await waitForChains(owner, 3)).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    const path = (readFileSync(`/proc/${owner.initPid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:pids:/.test(l)) ?? '').split(':')[2]!;
    const guest = await startWorkload({ image: 'busybox', name: 'cg-guest-joined', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }], runArgs: ['--cgroup-parent', path, '--pid', `container:${owner.id}`] });
    try {
      await waitForChains(guest, 3);
      expect(cgroupDir(guest).startsWith(`${cgroupDir(owner)}/`)).toBe(true);
      // the guest's processes are in the owner's namespace, at its depth
      const ownerNs = readlinkSync(`/proc/${owner.initPid}/ns/pid`);
      expect(hostProcsOfContainer(guest).every((p) => readlinkSync(`/proc/${p.hostPid}/ns/pid`) === ownerNs)).toBe(true);
      // the guest's own: its cgroup's (its namespace is the owner's, with the owner's processes)
      const guestOwn = () => liveIdentities(hostProcsOfContainer(guest).filter((p) => p.inCgroupProcs));
      const guestBefore = guestOwn();
      expect(guestBefore.length).toBeGreaterThanOrEqual(10);
      for (const source of ['ps', 'host']) {
        const c = (await auditJson(['--container', owner.name, '--proc-source', source])).doc.containers[0];
        // the kernel's truth for the owner: its own cgroup's processes (its namespace holds the guest's too)
        const ownerOwn = hostProcsOfContainer(owner).filter((p) => p.inCgroupProcs);
        expect({ source, total: c.processes.total, matching: c.processes.matching }).toEqual({ source, total: ownerOwn.length, matching: 3 });
      }
      const r = await cleanup(['--container', owner.name, '--max-procs', '5', '--grace', '2']);
      expect(r.code).toBe(0);
      await waitFor(() => ownerBefore.slice(0, 2).every((ch) => [ch.npm, ch.sh!, ch.node!].every(isDead)), 10_000, 50, "the owner's two oldest trees gone");
      for (const p of [ownerBefore[2]!.npm, ownerBefore[2]!.sh!, ownerBefore[2]!.node!]) expect(isAlive(p)).toBe(true);
      const guestNow = new Set(guestOwn());
      expect(guestBefore.filter((p) => !guestNow.has(p))).toEqual([]);
    } finally {
      docker('rm', '-f', guest.id);
    }
  });
});

describeEngine('the monitor sees a parent\'s pids limit too', () => {
  test('a container under --max-procs but near its --cgroup-parent\'s pids.max is cleaned by the monitor', async () => {
    const parent = `/${RUN_ID}-mparent`;
    const w = await startWorkload({ image: 'busybox', name: 'monitor-parent', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 2 }], runArgs: ['--cgroup-parent', parent] });
    const before = await waitForChains(w, 2);
    const dir = cgroupDir(w);
    const parentDir = dir.slice(0, dir.lastIndexOf('/'));
    const tmp = mkdtempSync(join(tmpdir(), 'pidwarden-mon-'));
    const log = join(tmp, 'monitor.jsonl');
    const readLog = () => (existsSync(log) ? jsonl(readFileSync(log, 'utf8')) : []);
    let m: ReturnType<typeof Bun.spawn> | null = null;
    try {
      // 7 processes (<= --max-procs 15), but the parent's limit leaves 2 tasks of room: pressure
      writeFileSync(join(parentDir, 'pids.max'), String(pidsFiles(w).current + 2));
      m = spawnMonitor(w.name, log);
      const result = await waitFor(() => readLog().find((e) => e.event === 'result' && e.healthy === true), 20_000, 100, 'a healthy result by the monitor');
      expect((result.before as { processes: number }).processes).toBe(before.length);
      expect(kills(readLog()).length).toBeGreaterThan(0);
    } finally {
      m?.kill('SIGTERM');
      await m?.exited;
      rmSync(tmp, { recursive: true, force: true });
      docker('rm', '-f', w.id);
      removeCgroupParent(parent);
    }
  });
});

describeEngine("a parent's pids limit shared by two containers", () => {
  test("the small one, near the room its sibling leaves it, is cleaned by the monitor; the sibling, not selected, keeps every process", async () => {
    const parent = `/${RUN_ID}-sparent`;
    // 2 trees of 19 tasks and an app of 11: about 49 tasks in 7 processes, under --max-procs 15
    const small = await startWorkload({ image: 'busybox', name: 'shared-small', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 2 }], runArgs: ['--cgroup-parent', parent] });
    // the sibling: one process of 60 threads, no runaway tree
    const big = await startWorkload({ image: 'busybox', name: 'shared-big', reap: 'all', threads: { app: 60, npm: 11, node: 7 }, runArgs: ['--cgroup-parent', parent] });
    const before = await waitForChains(small, 2);
    await waitFor(() => pidsFiles(big).current >= 60, 20_000, 50, "the sibling's 60 threads");
    const bigBefore = liveIdentities(hostProcsOfContainer(big));
    const parentDir = pidsFiles(small).dir.slice(0, pidsFiles(small).dir.lastIndexOf('/'));
    expect(pidsFiles(big).dir.startsWith(`${parentDir}/`)).toBe(true);
    const tmp = mkdtempSync(join(tmpdir(), 'pidwarden-shared-'));
    const log = join(tmp, 'monitor.jsonl');
    const readLog = () => (existsSync(log) ? jsonl(readFileSync(log, 'utf8')) : []);
    let m: ReturnType<typeof Bun.spawn> | null = null;
    try {
      // 2 tasks of room below the parent: the small container's own count stays far below the
      // parent's pids.max (about 49 of 111), but only 2 more of its forks can succeed
      const parentCurrent = () => Number(readFileSync(join(parentDir, 'pids.current'), 'utf8'));
      writeFileSync(join(parentDir, 'pids.max'), String(parentCurrent() + 2));
      const parentMax = Number(readFileSync(join(parentDir, 'pids.max'), 'utf8'));
      const c = (await auditJson(['--container', small.name])).doc.containers[0];
      // kernel truth: the room is the parent's pids.max less what the sibling uses
      const others = parentCurrent() - pidsFiles(small).current;
      expect(c.pids.max).toBe(parentMax - others);
      expect(c.limit).toMatchObject({ heldBy: parentDir, shared: { max: parentMax } });
      expect(c.status).toBe('critical');
      m = spawnMonitor(small.name, log);
      const result = await waitFor(() => readLog().find((e) => e.event === 'result' && e.healthy === true), 20_000, 100, 'a healthy result by the monitor');
      expect((result.before as { processes: number }).processes).toBe(before.length);
      expect(kills(readLog()).length).toBeGreaterThan(0);
      // the oldest tree went, the newest stays; every process of the sibling lives on
      const chains = liveChains(before).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
      await waitFor(() => [chains[0]!.npm, chains[0]!.sh!, chains[0]!.node!].every(isDead), 10_000, 50, 'the oldest tree gone');
      for (const p of [chains[1]!.npm, chains[1]!.sh!, chains[1]!.node!]) expect(isAlive(p)).toBe(true);
      const bigNow = new Set(liveIdentities(hostProcsOfContainer(big)));
      expect(bigBefore.filter((p) => !bigNow.has(p))).toEqual([]);
    } finally {
      m?.kill('SIGTERM');
      await m?.exited;
      rmSync(tmp, { recursive: true, force: true });
      docker('rm', '-f', small.id, big.id);
      removeCgroupParent(parent);
    }
  });
});

describeEngine('inner containers in a namespace nested inside (docker:dind, unshare -fp) whose CMD is `npx -y`', () => {
  // An inner container's init is PID 1 of its own namespace, the kernel ends that namespace with
  // it: the inner container's main process, never a duplicate, whatever its title.
  const innerContainer = `unshare -fp --mount-proc env FAKENODE_ROLE=npm FAKENODE_THREADS=1 FAKENODE_SERVER_THREADS=1 FAKENODE_SH=fake node /usr/local/bin/npx ${MAGIC}`;
  // tcp: a remote engine, ps and cat and kill through exec: the inner inits are told by the NSpid
  // lines of their /proc/<pid>/status read in the container (no host /proc there)
  for (const source of ['ps', 'host', 'tcp'] as const) {
    test(`${source === 'tcp' ? 'over TCP (exec only)' : `--proc-source ${source}`}: dedupe leaves both inner inits and their servers; of the outer app's two sessions the older goes`, async () => {
      if (source === 'tcp' && TCP === '') {
        if (process.env.CI === 'true') throw new Error('PIDWARDEN_TEST_DOCKER_TCP is not set (CI=true)');
        console.warn('[layouts] skipped: PIDWARDEN_TEST_DOCKER_TCP is not set');
        return;
      }
      const script = [
        `${innerContainer} &`,
        `${innerContainer} &`,
        `exec node dist/index.js --interval=0.05 --reap=all --threads=1,1,1 'tree/x2=${MAGIC}'`,
      ].join('\n');
      const w = runContainer(`dind-${source}`, ['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--entrypoint', '/bin/sh'], IMAGES.busybox, ['-c', script]);
      const isServer = (p: { argv: string[] }) => p.argv[0] === 'node' && p.argv[1]?.startsWith('/root/.npm/_npx/') === true;
      // each inner namespace down to its server (PID 1, sh, node there: NSpid 3 deep), and both outer sessions
      const procs = await waitFor(() => {
        const ps = cgroupMembers(w);
        const inner = ps.filter((p) => p.nspid.length === 3);
        const outerSessions = liveChains(ps.filter((p) => p.nspid.length === 2));
        return inner.filter(isServer).length === 2 && outerSessions.length === 2 ? ps : null;
      }, 20_000, 100, 'two inner containers and two outer sessions down to their servers');
      const innerInits = procs.filter((p) => p.nspid.length === 3 && p.nspid[2] === 1);
      expect(innerInits.map((p) => p.argv[0])).toEqual([MAGIC_TITLE, MAGIC_TITLE]);
      const inner = procs.filter((p) => p.nspid.length === 3);
      const [older, newer] = liveChains(procs.filter((p) => p.nspid.length === 2)).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
      // over --max-procs by 2: the older outer session's 3 processes going brings it back under
      const where = source === 'tcp' ? ['--docker-host', TCP] : ['--proc-source', source];
      const r = await cleanup(['--container', w.name, ...where, '--steps', 'dedupe', '--max-procs', String(procs.length - 2), '--grace', '2']);
      if (source === 'tcp') for (const l of kills(r.lines)) expect(l.via).toBe('exec');
      const signalled = kills(r.lines).flatMap((l) => l.hostPids ?? []);
      // kernel truth: every process of both inner namespaces lives; the older outer session is gone, the newer stays
      expect(inner.filter(isDead).map((p) => p.argv.join(' '))).toEqual([]);
      for (const p of inner) expect(signalled).not.toContain(p.hostPid);
      await waitFor(() => [older!.npm, older!.sh!, older!.node!].every(isDead), 10_000, 50, 'the older outer session gone');
      expect([newer!.npm, newer!.sh!, newer!.node!].every(isAlive)).toBe(true);
      expect(r.code).toBe(0);
    });
  }
});

describeEngine('at the pids limit: no exec at all, the host route, said so', () => {
  test('audit and cleanup of a full container read and signal from the host; the fallback reason names the limit', async () => {
    const limit = 30;
    const w = await startWorkload({ image: 'busybox', name: 'full', pidsLimit: limit, reap: 'all', interval: 0.1, threads: { app: 3, npm: 5, node: 3 }, trees: [{ npx: MAGIC, copies: 4 }] });
    // three npm roots, not three complete chains: under load the 4th npm can take the last task
    // before the 3rd chain's node is forked (test/integration/cleanup.test.ts, the same container)
    await waitFor(() => pidsFiles(w).current === limit && hostProcsOfContainer(w).filter((p) => isNpm(p) && p.state !== 'Z').length >= 3, 20_000, 50, `pids.current == ${limit}`);
    const c = (await auditJson(['--container', w.name])).doc.containers[0];
    expect(c.processes.source).toBe('host-proc');
    expect(c.processes.fallbackReason).toContain(`at the pids limit (${limit}/${limit})`);
    const dry = await cleanup(['--container', w.name, '--dry-run', '--grace', '1']);
    for (const l of kills(dry.lines)) expect({ via: l.via, dryRun: l.dryRun }).toEqual({ via: 'host', dryRun: true });
    const r = await cleanup(['--container', w.name, '--grace', '2']);
    expect(r.code).toBe(0);
    expect(kills(r.lines).length).toBeGreaterThan(0);
    for (const l of kills(r.lines)) expect(l.via).toBe('host');
    expect(r.lines.filter((l) => l.event === 'error')).toEqual([]);
  });
});

describeEngine('pidwarden in a PID namespace of its own, reading the host\'s /proc through --proc-root (a container without pid: host)', () => {
  // Not a faked /proc: the host's /proc bound at `hostProc` in a private mount namespace, then
  // pidwarden as PID 1 of a new PID namespace with a /proc of its own (unshare(1), util-linux), as
  // in a container started with `-v /proc:/host/proc` and no `pid: host`. The shell only binds and
  // execs; every value reaches it as an argument.
  const hostProc = mkdtempSync(join(tmpdir(), 'pidwarden-hostproc-'));
  afterAll(() => rmSync(hostProc, { recursive: true, force: true }));
  const BIND_THEN_UNSHARE = 'mount --bind /proc "$1" && shift && exec unshare --pid --fork --kill-child --mount-proc "$@"';
  const inOwnPidNs = (program = PIDWARDEN_BIN) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', BIND_THEN_UNSHARE, 'sh', hostProc, program];
  const run = (args: string[]) => runPidwarden(args, { command: inOwnPidNs() });
  const auditThere = async (args: string[]) => {
    const r = await run(['audit', '--json', '--proc-root', hostProc, ...args]);
    expect(outcome(r)).toEqual({ code: r.code, timedOut: false });
    return JSON.parse(r.stdout).containers[0];
  };

  test('the kernel lists no cgroup member there: the container is read with ps and signalled with its own kill, and counted whole', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'own-pidns', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const before = await waitForChainsAndThreads(w, 3);
    // the cause, from the kernel: cgroup.procs read from that namespace lists none of the container's processes
    const procs = await runPidwarden([join(cgroupDir(w), 'cgroup.procs')], { command: inOwnPidNs('/bin/cat') });
    expect({ code: procs.code, lines: procs.stdout.split('\n').filter(Boolean).length }).toEqual({ code: 0, lines: 0 });
    expect(cgroupProcs(w).length).toBe(before.length);

    const c = await auditThere(['--container', w.name]);
    expect(c.layout).toMatchObject({ local: false, hostSignals: false, sharedPidNamespace: false });
    expect(c.layout.refusal).toBeUndefined();
    expect(c.layout.remoteReason).toContain("another PID namespace's /proc");
    expect(c.problems.join('\n')).toContain('host view not used');
    expect(c.processes.source).toBe('ps');
    expect(c.processes.total).toBe(hostProcsOfContainer(w).length);
    expect(c.processes.total).toBe(before.length);
    // tasks, a count: the engine's figure, the kernel's pids.current
    expect(c.pids.current).toBe(pidsFiles(w).current);

    const r = await run(['cleanup', '--container', w.name, '--proc-root', hostProc, '--max-procs', '5', '--grace', '2']);
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const lines = jsonl(r.stdout);
    const ks = kills(lines);
    expect(ks.length).toBeGreaterThan(0);
    for (const l of ks) expect({ via: l.via, hostPids: l.hostPids }).toEqual({ via: 'exec', hostPids: undefined });
    // the one warning says why the host view is not used; nothing failed
    expect(lines.filter((l) => l.event === 'error').map((l) => String(l.reason).slice(0, 18))).toEqual(['host view not used']);
    const magic = liveChains(before).sort((x, y) => x.npm.startTicks - y.npm.startTicks);
    for (const ch of magic.slice(0, 2)) for (const p of [ch.npm, ch.sh!, ch.node!]) expect(isDead(p)).toBe(true);
    for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) expect(isAlive(p)).toBe(true);
  });

  test('the monitor does not take the empty cgroup.procs for a quiet container: it cleans the storm', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'own-pidns-mon', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const before = await waitForChains(w, 3);
    const tmp = mkdtempSync(join(tmpdir(), 'pidwarden-mon-'));
    const log = join(tmp, 'monitor.jsonl');
    const m = Bun.spawn([...inOwnPidNs(), 'monitor', '--container', w.name, '--proc-root', hostProc, '--max-procs', '5', '--interval', '0.25', '--grace', '1', '--log-file', log], {
      cwd: REPO_ROOT,
      env: pidwardenEnv(),
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
    });
    try {
      const result = await waitFor(() => readJsonl<Line>(log).find((e) => e.event === 'result' && e.healthy === true), 30_000, 100, 'a healthy result by the monitor');
      expect((result.before as { processes: number }).processes).toBe(before.length);
      for (const l of kills(readJsonl<Line>(log))) expect(l.via).toBe('exec');
      const magic = liveChains(before).sort((x, y) => x.npm.startTicks - y.npm.startTicks);
      for (const ch of magic.slice(0, 2)) for (const p of [ch.npm, ch.sh!, ch.node!]) expect(isDead(p)).toBe(true);
      for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) expect(isAlive(p)).toBe(true);
    } finally {
      // unshare ignores SIGTERM while it waits for its child; --kill-child SIGKILLs the monitor (the
      // namespace's PID 1) when unshare dies
      m.kill('SIGKILL');
      await m.exited;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('a --pid=host container seen from there is refused: no table, no signal, beside a host process titled like a victim', async () => {
    const agent = runContainer('own-pidns-pidhost', ['--pid=host', '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    await waitFor(() => cgroupMembers(agent).length === 1, 20_000, 50, 'the agent running');
    const decoy = startHostTree(MAGIC);
    const decoyProcs = [decoy.npm, decoy.sh, decoy.node].map((h) => readHostProc(h)!);
    const c = await auditThere(['--container', agent.name]);
    expect(c.layout).toMatchObject({ local: false, hostSignals: false, sharedPidNamespace: true, sharedPidWhy: 'pid=host' });
    expect(c.layout.refusal).toContain('never acted on');
    expect(c.processes.total).toBeNull();
    // unhealthy by --pids-ratio (1 task of 50 >= 0.01 x 50) every step allowed by default, restart included: refused all the same
    const r = await run(['cleanup', '--container', agent.name, '--proc-root', hostProc, '--max-procs', '1', '--pids-ratio', '0.01', '--grace', '0.5']);
    expect(outcome(r)).toEqual({ code: r.code, timedOut: false });
    expect(jsonl(r.stdout).filter((l) => l.event === 'kill' || l.event === 'restart')).toEqual([]);
    for (const p of decoyProcs) expect(isAlive(p)).toBe(true);
    expect(cgroupMembers(agent)).toHaveLength(1);
    expect(dockerOk('inspect', '-f', '{{.State.Pid}}', agent.id)).toBe(String(agent.initPid));
  });
});

/** The container's one process, once its cgroup holds exactly one. */
async function soleProcess(w: Parameters<typeof cgroupMembers>[0], what: string) {
  const [only] = await waitFor(() => {
    const m = cgroupMembers(w);
    return m.length === 1 ? m : null;
  }, 20_000, 50, what);
  return only!;
}

describeEngine('a container that another joined with --pid=container:X', () => {
  test('is not restarted, on evidence or with --restart always: restart-skipped names the joiner, whose process lives on', async () => {
    // X never reaps: 6 jobs killed from here stay zombies of its main process. 7 processes >
    // max-procs 3, and without the zombies 1: evidence for a restart, the only thing that clears
    // them. Y runs in X's PID namespace; X's init dying would make the kernel SIGKILL Y's process.
    const x = await startWorkload({ image: 'busybox', name: 'joined', reap: 'none', interval: 0.05, threads: 1, procs: [{ argv: ['node', '/app/dist/jobs/run-once.js'], copies: 6 }] });
    const jobs = await waitFor(() => {
      const j = hostProcsOfContainer(x).filter((p) => p.argv[1] === '/app/dist/jobs/run-once.js');
      return j.length === 6 ? j : null;
    }, 20_000, 50, '6 jobs');
    const y = runContainer('joiner', [`--pid=container:${x.id}`], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    try {
      const yProc = await soleProcess(y, 'the joiner running');
      for (const j of jobs) process.kill(j.hostPid, 'SIGKILL');
      const zombies = () => hostProcsOfContainer(x).filter((p) => p.state === 'Z').length;
      await waitFor(() => zombies() === 6, 10_000, 50, '6 zombies');
      const started0 = dockerOk('inspect', '-f', '{{.State.StartedAt}}', x.id);
      for (const extra of [[], ['--restart', 'always']]) {
        const r = await cleanup(['--container', x.name, '--max-procs', '3', '--grace', '0.5', ...extra]);
        const what = `cleanup ${extra.join(' ') || '(evidence)'}`;
        expect({ what, restarts: r.lines.filter((l) => l.event === 'restart' || l.event === 'kill') }).toEqual({ what, restarts: [] });
        const skipped = r.lines.filter((l) => l.event === 'restart-skipped');
        expect(skipped).toHaveLength(1);
        expect(skipped[0]!.reason).toBe(`container ${y.name} shares its PID namespace: a restart would kill their processes too`);
        expect(skipped[0]!.level).toBe('warn');
        expect(r.code).toBe(1);
        expect(dockerOk('inspect', '-f', '{{.State.StartedAt}} {{.State.Pid}}', x.id)).toBe(`${started0} ${x.initPid}`);
        expect(isAlive(yProc)).toBe(true);
        expect(zombies()).toBe(6);
      }
    } finally {
      // the joiner first: removed together, X's init can die first and runc then fails the joiner's kill
      docker('rm', '-f', '-v', y.id);
      docker('rm', '-f', '-v', x.id);
    }
  });

  test("a joiner itself is restarted when its rule says so, beside a fellow joiner: its init is not its namespace's PID 1, so only its own processes end; X's and the fellow's live on", async () => {
    // X holds the namespace (1 process); Y and Z join it, as two members of a Podman pod join its
    // infra, and Y is unhealthy (5 processes > --max-procs 2). Before, the joiner check found Z in
    // Y's namespace and withheld Y's restart ("container Z shares its PID namespace"), though Y's end
    // takes none of Z's processes: a storm in a pod member was never restarted.
    const x = runContainer('owner', [], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const y = runContainer('restarted-joiner', [`--pid=container:${x.id}`, '--stop-timeout', '2'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1', 'proc/x4=|node|/app/dist/jobs/run-once.js']);
    const z = runContainer('fellow-joiner', [`--pid=container:${x.id}`], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    try {
      const zProc = await soleProcess(z, 'the fellow joiner running');
      const xProc = await soleProcess(x, 'the owner running');
      await waitFor(() => cgroupMembers(y).length === 5 || null, 20_000, 50, "the joiner's 5 processes");
      const yStarted0 = dockerOk('inspect', '-f', '{{.State.StartedAt}}', y.id);
      const xStarted0 = dockerOk('inspect', '-f', '{{.State.StartedAt}} {{.State.Pid}}', x.id);
      // only the restart step: the kill steps would clean the jobs first
      const r = await cleanup(['--container', y.name, '--max-procs', '2', '--grace', '0.5', '--steps', 'restart', '--restart', 'always'], 120_000);
      expect(r.lines.filter((l) => l.event === 'restart-skipped')).toEqual([]);
      const restarts = r.lines.filter((l) => l.event === 'restart');
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatchObject({ containerId: y.id });
      expect(dockerOk('inspect', '-f', '{{.State.StartedAt}}', y.id)).not.toBe(yStarted0);
      // X: never signalled, the same run, its process alive
      expect(kills(r.lines)).toEqual([]);
      expect(dockerOk('inspect', '-f', '{{.State.StartedAt}} {{.State.Pid}}', x.id)).toBe(xStarted0);
      expect(isAlive(xProc)).toBe(true);
      expect(isAlive(zProc)).toBe(true);
    } finally {
      // the joiners first: removed together, X's init can die first and runc then fails a joiner's kill
      docker('rm', '-f', '-v', y.id, z.id);
      docker('rm', '-f', '-v', x.id);
    }
  });
});
