/**
 * The right process on every runtime layout (README "Runtimes and layouts"), against the private
 * engine and compared with the kernel:
 *   - a `--pid=host` agent and a `--pid=container:X` sidecar next to a storm and a host decoy
 *     titled like a victim: each agent is its 1 process, and nothing outside the selected
 *     container is ever signalled; on a remote (tcp://) engine such a container is observed from
 *     the API only and never acted on;
 *   - a nested PID namespace (`unshare -fp --mount-proc` inside the container) whose inner PIDs
 *     collide with outer ones: `cleanup --proc-source host` kills the inner trees through the
 *     host and nothing that holds the same numbers outside;
 *   - a container started with a USER whose storm runs as another uid: cleaned locally (host
 *     route) and through a remote engine (exec `kill` as root);
 *   - a local cleanup signals through the host with a pidfd; a dry run reports that route.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RUN_ID,
  RUN_LABEL,
  cgroupDir,
  cgroupProcs,
  describeEngine,
  docker,
  dockerOk,
  engine,
  hostProcsOfContainer,
  IMAGES,
  PIDWARDEN_BIN,
  REPO_ROOT,
  liveChains,
  pidsFiles,
  readHostProc,
  runPidwarden,
  startHostTree,
  startWorkload,
  waitFor,
  waitForChains,
  type HostProc,
  type Workload,
} from './harness.ts';
import { MAGIC, MAGIC_TITLE, RUV } from './packages.ts';

setDefaultTimeout(90_000);

const TCP = process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '';

interface Line {
  event: string;
  step?: string;
  signal?: string;
  pids?: number[];
  hostPids?: number[];
  via?: string;
  depth?: number;
  pidfd?: boolean;
  dryRun?: boolean;
  reason?: string;
  [k: string]: unknown;
}

const jsonl = (stdout: string): Line[] => stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
const kills = (lines: Line[]) => lines.filter((l) => l.event === 'kill');
const signalledHostPids = (lines: Line[]) => new Set(kills(lines).flatMap((l) => l.hostPids ?? []));

/** Dead per the kernel: gone, its PID now someone else's, or a zombie. */
function isDead(p: { hostPid: number; startTicks: number }): boolean {
  const now = readHostProc(p.hostPid);
  return now === null || now.startTicks !== p.startTicks || now.state === 'Z' || now.state === 'X';
}
const isAlive = (p: { hostPid: number; startTicks: number }) => !isDead(p);
const identity = (p: { hostPid: number; startTicks: number }) => `${p.hostPid}@${p.startTicks}`;
const liveIdentities = (procs: HostProc[]) => procs.filter((p) => p.state !== 'Z').map(identity).sort();

async function auditJson(args: string[]): Promise<{ code: number; doc: any; stderr: string }> {
  const r = await runPidwarden(['audit', '--json', ...args]);
  expect(r.timedOut).toBe(false);
  return { code: r.code, doc: JSON.parse(r.stdout), stderr: r.stderr };
}

async function cleanup(args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  const r = await runPidwarden(['cleanup', ...args], { timeoutMs: 60_000 });
  expect(r.timedOut).toBe(false);
  return { code: r.code, lines: jsonl(r.stdout), stderr: r.stderr };
}

/** The container's live processes per the kernel: its cgroup's members (a shared namespace holds others too). */
function cgroupMembers(w: Workload): HostProc[] {
  const members = new Set(cgroupProcs(w));
  return hostProcsOfContainer(w).filter((p) => members.has(p.hostPid));
}

/** A container from a test image with extra `docker run` options, PID 1 as given; removed with the run's others. */
function runContainer(name: string, runArgs: string[], image: string, cmd: string[]): Workload {
  const full = `${RUN_ID}-layout-${name}`;
  const id = dockerOk('run', '-d', '--network', 'none', '--name', full, '--label', `${RUN_LABEL}=${RUN_ID}`, '--label', 'pidwarden-test=1', ...runArgs, image, ...cmd);
  const [status, pid] = dockerOk('inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id).split(' ');
  if (status !== 'running') throw new Error(`${full} is not running: ${docker('logs', id).stderr}`);
  return { id, name: full, initPid: Number(pid), image, plan: cmd };
}

describeEngine('shared PID namespaces: --pid=host and --pid=container:X', () => {
  test('each agent is its 1 process; cleanup of an agent signals nothing, not the storm, not the host decoy titled like a victim', async () => {
    const storm = await startWorkload({ image: 'busybox', name: 'storm', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }, RUV] });
    // a pids limit each, so that --pids-ratio can make them unhealthy with their 1 process
    const hostAgent = runContainer('pidhost', ['--pid=host', '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const sidecar = runContainer('sidecar', [`--pid=container:${storm.id}`, '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const decoy = startHostTree(MAGIC);
    const decoyProcs = [decoy.npm, decoy.sh, decoy.node].map((h) => readHostProc(h)!);
    const stormBefore = await waitForChains(storm, 4);
    await waitFor(() => cgroupMembers(hostAgent).length === 1 && cgroupMembers(sidecar).length === 1, 10_000, 50, 'each agent running');

    for (const agent of [hostAgent, sidecar]) {
      for (const source of ['ps', 'host']) {
        const a = await auditJson(['--container', agent.name, '--proc-source', source]);
        const c = a.doc.containers[0];
        expect({ agent: agent.name, source, total: c.processes.total, matching: c.processes.matching }).toEqual({ agent: agent.name, source, total: 1, matching: 0 });
        // the cgroup's members, read from the host (ps there would list the host or the storm)
        expect(c.processes.source).toBe('host-proc');
        expect(c.processes.fallbackReason).toContain('shared PID namespace');
        expect(c.layout.local).toBe(true);
      }
    }
    // the storm itself is counted without its sidecar's process, though `ps` in it lists that one
    const s = (await auditJson(['--container', storm.name])).doc.containers[0];
    expect(s.processes.source).toBe('ps');
    expect(s.processes.total).toBe(cgroupMembers(storm).length);
    expect(s.processes.total).toBe(hostProcsOfContainer(storm).length - 1);

    for (const agent of [hostAgent, sidecar]) {
      // unhealthy by --pids-ratio (1 task of 50 >= 0.01 x 50), every kill step allowed: still nothing of theirs matches
      const r = await cleanup(['--container', agent.name, '--max-procs', '1', '--pids-ratio', '0.01', '--steps', 'dedupe,oldest,all', '--grace', '0.5']);
      expect(kills(r.lines)).toEqual([]);
      expect(r.code).toBe(1);
    }
    for (const p of [...decoyProcs, ...stormBefore.filter((p) => p.state !== 'Z')]) expect(isAlive(p)).toBe(true);
    expect(cgroupMembers(hostAgent)).toHaveLength(1);
    expect(cgroupMembers(sidecar)).toHaveLength(1);

    // the storm's own cleanup takes its duplicates, and neither the sidecar in its namespace nor the decoy
    const sidecarProc = cgroupMembers(sidecar)[0]!;
    const r = await cleanup(['--container', storm.name, '--max-procs', '8', '--grace', '2']);
    expect(r.code).toBe(0);
    const touched = signalledHostPids(r.lines);
    expect(touched.has(sidecarProc.hostPid)).toBe(false);
    for (const p of decoyProcs) expect(touched.has(p.hostPid)).toBe(false);
    for (const l of kills(r.lines)) expect(l.via).toBe('host');
    expect(isAlive(sidecarProc)).toBe(true);
    for (const p of decoyProcs) expect(isAlive(p)).toBe(true);
    const magic = liveChains(stormBefore).filter((c) => c.npm.argv[0] === MAGIC_TITLE).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    for (const c of magic.slice(0, 2)) for (const p of [c.npm, c.sh!, c.node!]) expect(isDead(p)).toBe(true);
  });

  test('remote engine: a --pid=host container is observed from the API only and never acted on; the audit says why', async () => {
    expect(TCP).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const agent = runContainer('remote-pidhost', ['--pid=host', '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const decoy = startHostTree(MAGIC);
    const decoyProcs = [decoy.npm, decoy.sh, decoy.node].map((h) => readHostProc(h)!);
    const a = await auditJson(['--docker-host', TCP, '--container', agent.name]);
    const c = a.doc.containers[0];
    expect(c.processes.source).toBe('none');
    expect(c.processes.total).toBeNull();
    expect(c.layout.refusal).toContain('shared PID namespace');
    expect(c.problems.join('\n')).toContain('never acted on');
    const table = await runPidwarden(['audit', '--docker-host', TCP, '--container', agent.name]);
    expect(table.stdout).toContain('shared PID namespace');
    // unhealthy by the API's pids figures: a restart would be the only step left, and is refused too
    const r = await cleanup(['--docker-host', TCP, '--container', agent.name, '--max-procs', '1', '--pids-ratio', '0.01', '--grace', '0.5']);
    expect(r.lines.filter((l) => l.event === 'kill' || l.event === 'restart')).toEqual([]);
    for (const p of decoyProcs) expect(isAlive(p)).toBe(true);
    expect(dockerOk('inspect', '-f', '{{.State.Pid}}', agent.id)).toBe(String(agent.initPid));
  });
});

describeEngine('nested PID namespace inside a container', () => {
  test('cleanup --proc-source host kills the inner trees (by their container-level PIDs, through the host) and none of the outer workers holding the inner numbers', async () => {
    // PID 1: the app with 12 workers; beside it, in a PID namespace of its own, an app with 8 npm trees
    // the workers first (outer PIDs 4 to 15: one thread each), the nested namespace once they all
    // run: its trees, one thread a process too, get inner PIDs 2 to 25, the same numbers
    const script = [
      // the nested namespace starts once PID 1 and its 12 workers run (13 `node`s): a condition, not a delay
      `(until [ "$(pidof node | wc -w)" -ge 13 ]; do sleep 0.05; done; exec unshare -fp --mount-proc node dist/index.js --interval=0.05 --reap=all --threads=1,1,1 'tree/x8=${MAGIC}') &`,
      `exec node dist/index.js --interval=0.05 --threads=1 'proc/x12=|node|/app/worker.js'`,
    ].join('\n');
    const w = runContainer(
      'nested',
      ['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--entrypoint', '/bin/sh'],
      IMAGES.busybox,
      ['-c', script],
    );
    const isInnerNode = (p: HostProc) => p.argv[0] === 'node' && p.argv[1]?.startsWith('/root/.npm/_npx/') === true;
    const procs = await waitFor(() => {
      const ps = cgroupMembers(w);
      const inner = ps.filter((p) => p.nspid.length === 3);
      const workers = ps.filter((p) => p.argv[1] === '/app/worker.js');
      return inner.filter(isInnerNode).length === 8 && workers.length === 12 ? ps : null;
    }, 20_000, 100, '12 workers and 8 inner trees down to their node servers');
    const inner = procs.filter((p) => p.nspid.length === 3);
    const innerTrees = inner.filter((p) => p.argv[0] === MAGIC_TITLE);
    const innerTreeProcs = inner.filter((p) => p.argv[0] !== 'node' || p.argv[1] !== 'dist/index.js');
    const outer = procs.filter((p) => p.nspid.length === 2);
    const workers = outer.filter((p) => p.argv[1] === '/app/worker.js');
    // the collision: inner PIDs (innermost NSpid) that outer processes also hold at the container's level
    const innerNumbers = new Set(innerTreeProcs.map((p) => p.nspid[2]!));
    const colliding = outer.filter((p) => innerNumbers.has(p.nspid[1]!));
    expect(colliding.length).toBeGreaterThan(0);
    expect(innerTrees).toHaveLength(8);

    const r = await cleanup(['--container', w.name, '--proc-source', 'host', '--emergency', '--steps', 'all', '--max-procs', '20', '--grace', '2']);
    const ks = kills(r.lines);
    expect(ks.length).toBeGreaterThan(0);
    for (const l of ks) expect(l.via).toBe('host');
    // logged by their PIDs at the container's level, each with its host PID
    const byHost = new Map(innerTreeProcs.map((p) => [p.hostPid, p]));
    for (const l of ks) {
      const pairs: [number[], number[]][] = [
        [l.pids ?? [], l.hostPids ?? []],
        [(l.gonePids as number[] | undefined) ?? [], (l.goneHostPids as number[] | undefined) ?? []],
      ];
      for (const [pids, hostPids] of pairs) {
        expect(hostPids).toHaveLength(pids.length);
        hostPids.forEach((h, i) => {
          const p = byHost.get(h);
          expect(p).toBeDefined();
          expect(pids[i]).toBe(p!.nspid[1]!);
        });
      }
    }
    // every inner tree process is in some line (signalled, or gone once its child was)
    const covered = new Set(ks.flatMap((l) => [...(l.hostPids ?? []), ...((l.goneHostPids as number[] | undefined) ?? [])]));
    expect(innerTreeProcs.filter((p) => !covered.has(p.hostPid)).map((p) => p.argv.join(' '))).toEqual([]);
    for (const p of innerTreeProcs) expect(isDead(p)).toBe(true);
    for (const p of outer) expect({ p: p.argv.join(' '), alive: isAlive(p) }).toEqual({ p: p.argv.join(' '), alive: true });
    expect(workers.every(isAlive)).toBe(true);
    expect(r.code).toBe(0);
  });
});

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
      // the engine leaves the parent it created in every hierarchy: remove them once the container is gone
      docker('rm', '-f', w.id);
      for (const h of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, parent));
        } catch {
          /* not there, or not a v1 hierarchy */
        }
      }
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
      m = Bun.spawn([PIDWARDEN_BIN, 'monitor', '--container', w.name, '--interval', '0.25', '--grace', '1', '--log-file', log], {
        cwd: REPO_ROOT,
        env: { DOCKER_HOST: engine.host! },
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'pipe',
      });
      const result = await waitFor(() => readLog().find((e) => e.event === 'result' && e.healthy === true), 20_000, 100, 'a healthy result by the monitor');
      expect((result.before as { processes: number }).processes).toBe(before.length);
      expect(kills(readLog()).length).toBeGreaterThan(0);
    } finally {
      m?.kill('SIGTERM');
      await m?.exited;
      rmSync(tmp, { recursive: true, force: true });
      docker('rm', '-f', w.id);
      for (const h of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, parent));
        } catch {
          /* not there, or not a v1 hierarchy */
        }
      }
    }
  });
});

describeEngine('at the pids limit: no exec at all, the host route, said so', () => {
  test('audit and cleanup of a full container read and signal from the host; the fallback reason names the limit', async () => {
    const limit = 30;
    const w = await startWorkload({ image: 'busybox', name: 'full', pidsLimit: limit, reap: 'all', interval: 0.1, threads: { app: 3, npm: 5, node: 3 }, trees: [{ npx: MAGIC, copies: 4 }] });
    await waitFor(() => pidsFiles(w).current === limit && liveChains(hostProcsOfContainer(w)).length === 3, 20_000, 50, `pids.current == ${limit}`);
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

describeEngine('a /proc whose PIDs are not our namespace\'s (pidwarden in a container without pid: host)', () => {
  test('read from that /proc, but signalled only through the container\'s kill: never a host PID from another namespace', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'foreign-proc', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const before = await waitForChains(w, 3);
    // every process of this host, and a `self` that is not us: what a host /proc bind-mounted into
    // a container with its own PID namespace looks like from inside it
    const fake = mkdtempSync(join(tmpdir(), 'pidwarden-proc-'));
    try {
      for (const e of readdirSync('/proc')) if (/^\d+$/.test(e) || e === 'stat') symlinkSync(`/proc/${e}`, join(fake, e));
      symlinkSync('/proc/1', join(fake, 'self'));
      const args = ['--container', w.name, '--proc-root', fake, '--cgroup-root', '/sys/fs/cgroup'];
      const c = (await auditJson(args)).doc.containers[0];
      expect(c.layout).toMatchObject({ local: true, hostSignals: false });
      expect(c.processes.total).toBe(before.length);
      const r = await cleanup([...args, '--max-procs', '5', '--grace', '2']);
      const ks = kills(r.lines);
      expect(ks.length).toBeGreaterThan(0);
      for (const l of ks) expect(l.via).toBe('exec');
      const magic = liveChains(before).sort((x, y) => x.npm.startTicks - y.npm.startTicks);
      for (const ch of magic.slice(0, 2)) for (const p of [ch.npm, ch.sh!, ch.node!]) expect(isDead(p)).toBe(true);
      expect(r.code).toBe(0);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
