/**
 * The layout cases every test lane runs (scripts/test.sh), against its host's engine and compared
 * with that host's kernel:
 *   - a `--pid=host` agent and a `--pid=container:X` sidecar next to a storm and a host decoy
 *     titled like a victim: each agent is its 1 process, and nothing outside the selected
 *     container is ever signalled; on a remote (tcp://) engine such a container is observed from
 *     the API only and never acted on;
 *   - a nested PID namespace (`unshare -fp --mount-proc` inside the container) whose inner PIDs
 *     collide with outer ones: `cleanup --proc-source host` kills the inner trees through the
 *     host and nothing that holds the same numbers outside.
 * The other layouts (USER images, locality, dind, --cgroup-parent) are in
 * test/integration/layouts.test.ts, on lane docker20-v1.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { describeEngine, ENGINE_KIND, RUN_ID, RUN_LABEL, dockerOk, hostProcsOfContainer, IMAGES, liveChains, readHostProc, runPidwarden, startHostTree, startWorkload, waitFor, waitForChains, type HostProc } from '../integration/harness.ts';
import { auditJson, cgroupMembers, cleanup, isAlive, isDead, kills, runContainer, signalledHostPids } from '../integration/layout-kit.ts';
import { MAGIC, MAGIC_TITLE, RUV } from '../integration/packages.ts';
import { LANE, laneResults } from './lane-results.ts';

const record = laneResults('layouts');
const TCP = process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '';
// Deadlines, not delays: on this host a condition holds in a second or two, in a lane's TCG VM
// work is ~10x slower (scripts/vm/README.md).
const LANE_WAIT_MS = 120_000;
const RUN_TIMEOUT_MS = 180_000;
setDefaultTimeout(600_000);

describeEngine('shared PID namespaces: --pid=host and --pid=container:X', () => {
  test('each agent is its 1 process; cleanup of an agent signals nothing, not the storm, not the host decoy titled like a victim', async () => {
    const storm = await startWorkload({ image: 'busybox', name: 'storm', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 3 }, RUV] });
    // a pids limit each, so that --pids-ratio can make them unhealthy with their 1 process
    const hostAgent = runContainer('pidhost', ['--pid=host', '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const sidecar = runContainer('sidecar', [`--pid=container:${storm.id}`, '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const decoy = startHostTree(MAGIC);
    const decoyProcs = [decoy.npm, decoy.sh, decoy.node].map((h) => readHostProc(h)!);
    const stormBefore = await waitForChains(storm, 4, LANE_WAIT_MS);
    await waitFor(() => cgroupMembers(hostAgent).length === 1 && cgroupMembers(sidecar).length === 1, LANE_WAIT_MS, 50, 'each agent running');

    for (const agent of [hostAgent, sidecar]) {
      for (const source of ['ps', 'host']) {
        const a = await auditJson(['--container', agent.name, '--proc-source', source], RUN_TIMEOUT_MS);
        const c = a.doc.containers[0];
        expect({ agent: agent.name, source, total: c.processes.total, matching: c.processes.matching }).toEqual({ agent: agent.name, source, total: 1, matching: 0 });
        // the cgroup's members, read from the host (ps there would list the host or the storm)
        expect(c.processes.source).toBe('host-proc');
        expect(c.processes.fallbackReason).toContain('shared PID namespace');
        expect(c.layout.local).toBe(true);
      }
    }
    // the storm itself is counted without its sidecar's process, though `ps` in it lists that one
    const s = (await auditJson(['--container', storm.name], RUN_TIMEOUT_MS)).doc.containers[0];
    expect(s.processes.source).toBe('ps');
    expect(s.processes.total).toBe(cgroupMembers(storm).length);
    expect(s.processes.total).toBe(hostProcsOfContainer(storm).length - 1);

    for (const agent of [hostAgent, sidecar]) {
      // unhealthy by --pids-ratio (1 task of 50 >= 0.01 x 50), every kill step allowed: still nothing of theirs matches
      const r = await cleanup(['--container', agent.name, '--max-procs', '1', '--pids-ratio', '0.01', '--steps', 'dedupe,oldest,all', '--grace', '0.5'], RUN_TIMEOUT_MS);
      expect(kills(r.lines)).toEqual([]);
      expect(r.code).toBe(1);
    }
    for (const p of [...decoyProcs, ...stormBefore.filter((p) => p.state !== 'Z')]) expect(isAlive(p)).toBe(true);
    expect(cgroupMembers(hostAgent)).toHaveLength(1);
    expect(cgroupMembers(sidecar)).toHaveLength(1);

    // the storm's own cleanup takes its duplicates, and neither the sidecar in its namespace nor the decoy
    const sidecarProc = cgroupMembers(sidecar)[0]!;
    const t0 = performance.now();
    const r = await cleanup(['--container', storm.name, '--max-procs', '8', '--grace', '2'], RUN_TIMEOUT_MS);
    const cleanupMs = Math.round(performance.now() - t0);
    expect(r.code).toBe(0);
    const touched = signalledHostPids(r.lines);
    expect(touched.has(sidecarProc.hostPid)).toBe(false);
    for (const p of decoyProcs) expect(touched.has(p.hostPid)).toBe(false);
    for (const l of kills(r.lines)) expect(l.via).toBe('host');
    expect(isAlive(sidecarProc)).toBe(true);
    for (const p of decoyProcs) expect(isAlive(p)).toBe(true);
    const magic = liveChains(stormBefore).filter((c) => c.npm.argv[0] === MAGIC_TITLE).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    for (const c of magic.slice(0, 2)) for (const p of [c.npm, c.sh!, c.node!]) expect(isDead(p)).toBe(true);
    record('shared', {
      agentsCounted: [cgroupMembers(hostAgent).length, cgroupMembers(sidecar).length],
      stormKilled: magic.slice(0, 2).length * 3,
      outsideSignalled: [sidecarProc, ...decoyProcs].filter((p) => touched.has(p.hostPid)).length,
      cleanupMs,
    });
  });

  // the VM lanes' engines have no TCP listener (scripts/vm/lane-run.sh); the host lanes must have one
  test.if(!LANE.startsWith('v2-'))('remote engine: a --pid=host container is observed from the API only and never acted on; the audit says why', async () => {
    expect(TCP).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const agent = runContainer('remote-pidhost', ['--pid=host', '--pids-limit', '50'], IMAGES.busybox, ['dist/index.js', '--interval=0.05', '--threads=1']);
    const decoy = startHostTree(MAGIC);
    const decoyProcs = [decoy.npm, decoy.sh, decoy.node].map((h) => readHostProc(h)!);
    const a = await auditJson(['--docker-host', TCP, '--container', agent.name], RUN_TIMEOUT_MS);
    const c = a.doc.containers[0];
    expect(c.processes.source).toBe('none');
    expect(c.processes.total).toBeNull();
    expect(c.layout.refusal).toContain('shared PID namespace');
    expect(c.problems.join('\n')).toContain('never acted on');
    const table = await runPidwarden(['audit', '--docker-host', TCP, '--container', agent.name], { timeoutMs: RUN_TIMEOUT_MS });
    expect(table.stdout).toContain('shared PID namespace');
    // unhealthy by the API's pids figures: a restart would be the only step left, and is refused too
    const r = await cleanup(['--docker-host', TCP, '--container', agent.name, '--max-procs', '1', '--pids-ratio', '0.01', '--grace', '0.5'], RUN_TIMEOUT_MS);
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
    }, LANE_WAIT_MS, 100, '12 workers and 8 inner trees down to their node servers');
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

    const t0 = performance.now();
    const r = await cleanup(['--container', w.name, '--proc-source', 'host', '--emergency', '--steps', 'all', '--max-procs', '20', '--grace', '2'], RUN_TIMEOUT_MS);
    const cleanupMs = Math.round(performance.now() - t0);
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
    record('nested', { innerKilled: innerTreeProcs.length, outerAlive: outer.filter(isAlive).length, outerHoldingInnerNumbers: colliding.length, cleanupMs });
  });
});

/** The podman CLI on the lane's engine (scripts/podman.sh writes it; `podman` in a VM lane): pods are not in the Docker API. */
function podmanCli(...args: string[]): string {
  const cli = process.env.PIDWARDEN_TEST_PODMAN_CLI ?? '';
  if (cli === '') throw new Error('PIDWARDEN_TEST_PODMAN_CLI is not set (scripts/test.sh and scripts/vm/lane-run.sh set it for Podman)');
  const r = Bun.spawnSync([cli, ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: RUN_TIMEOUT_MS });
  if (r.exitCode !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

describeEngine('a Podman pod sharing one PID namespace', () => {
  const pod = `${RUN_ID}-pod`;
  afterAll(() => {
    if (ENGINE_KIND === 'podman') podmanCli('pod', 'rm', '-f', '--ignore', pod);
  });

  test.if(ENGINE_KIND === 'podman')('members of a pod (`--share pid`): each counted by its cgroup; cleanup of the storm member spares the other member and the infra', async () => {
    podmanCli('pod', 'create', '--name', pod, '--share', 'pid,ipc,uts', '--network', 'none', '--label', `${RUN_LABEL}=${RUN_ID}`);
    const member = (name: string, plan: string[]) => {
      const full = `${RUN_ID}-pod-${name}`;
      // the pod shares no network namespace (--share pid,ipc,uts): each member says none itself
      const id = podmanCli('run', '-d', '--pod', pod, '--network', 'none', '--name', full, '--label', `${RUN_LABEL}=${RUN_ID}`, `docker.io/${IMAGES.busybox}:latest`, 'dist/index.js', '--interval=0.05', ...plan);
      return { id, name: full, initPid: Number(dockerOk('inspect', '-f', '{{.State.Pid}}', id)), image: IMAGES.busybox, plan };
    };
    const app = member('app', ['--threads=1']);
    const storm = member('storm', ['--threads=1', '--reap=all', `tree/x3=${MAGIC}`]);
    // what the engine says: both in the infra container's namespace
    expect(dockerOk('inspect', '-f', '{{.HostConfig.PidMode}}', app.id)).toStartWith('container:');
    const stormBefore = await waitFor(() => {
      const ps = cgroupMembers(storm);
      return liveChains(ps).length === 3 ? ps : null;
    }, LANE_WAIT_MS, 100, "the storm member's 3 trees");
    const appProc = cgroupMembers(app);
    expect(appProc).toHaveLength(1);
    // the namespace's PID 1 is the infra's catatonit: every member's init is a higher PID there
    expect(readHostProc(app.initPid)!.nspid.at(-1)).toBeGreaterThan(1);

    for (const [w, kernel] of [[app, appProc], [storm, stormBefore]] as const) {
      const c = (await auditJson(['--container', w.name], RUN_TIMEOUT_MS)).doc.containers[0];
      expect({ name: w.name, total: c.processes.total, source: c.processes.source, shared: c.layout.sharedPidNamespace })
        .toEqual({ name: w.name, total: kernel.length, source: 'host-proc', shared: true });
    }
    const nsMembers = (hostProcsOfContainer(app) as HostProc[]).filter((p) => !stormBefore.some((s) => s.hostPid === p.hostPid));
    const r = await cleanup(['--container', storm.name, '--max-procs', '5', '--grace', '2'], RUN_TIMEOUT_MS);
    expect(r.code).toBe(0);
    const touched = signalledHostPids(r.lines);
    for (const l of kills(r.lines)) expect(l.via).toBe('host');
    // nothing of the app member or the infra (everything else in the namespace) was signalled or died
    expect(nsMembers.filter((p) => touched.has(p.hostPid)).map((p) => p.argv.join(' '))).toEqual([]);
    for (const p of nsMembers.filter((p) => p.state !== 'Z')) expect({ p: p.argv.join(' '), alive: isAlive(p) }).toEqual({ p: p.argv.join(' '), alive: true });
    const magic = liveChains(stormBefore).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    for (const c of magic.slice(0, 2)) for (const p of [c.npm, c.sh!, c.node!]) expect(isDead(p)).toBe(true);
    for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) expect(isAlive(p)).toBe(true);
    record('pod', { appCounted: appProc.length, stormKilled: 6, namespaceMembersSpared: nsMembers.length });
  });
});
