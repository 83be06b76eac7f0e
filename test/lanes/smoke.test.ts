/**
 * A lane's smoke test: against whatever engine PIDWARDEN_TEST_DOCKER_HOST points to (inside a VM
 * lane: cgroup v2, Docker 20.10 / Docker 26 / Podman 5, see scripts/vm-lane.sh), pidwarden's audit
 * equals the kernel and a cleanup keeps the newest tree of a storm while its twin stays untouched.
 *
 *   PIDWARDEN_TEST_ENGINE_KIND  docker | podman (default docker)
 *   PIDWARDEN_TEST_LANE         the lane's name (v2-docker20, v2-docker26-podman5 in the VMs; docker20-v1, podman-v1 here)
 *
 * Under QEMU's TCG a VM runs exec-heavy work ~10x slower than native (a `docker run` ~9 s, an
 * audit of 3 containers ~6-14 s), so every deadline here is generous and every wait is on a
 * condition.
 */
import { runawayRoots } from '../integration/runaway-truth.ts';
import { beforeAll, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Chain,
  cgroupDir,
  describeEngine,
  type HostProc,
  hostProcsOfContainer,
  initPidOf,
  liveChains,
  pidsFiles,
  runPidwarden,
  startWorkload,
  waitFor,
  waitForChains,
  type Workload,
  outcome,
  ENGINE_KIND,
} from '../integration/harness.ts';
import { MAGIC, MAGIC_TITLE } from '../integration/packages.ts';
import { LANE } from './lane-results.ts';

const KIND = ENGINE_KIND;
/** 1 app + 6 trees x (npm exec, sh -c, node) = 19 processes: over the default --max-procs 15 */
const TREES = 6;
const PROCS = 1 + 3 * TREES;
const SLOW = 300_000;
/** A pidwarden run's own deadline: under the test's, so that a run that is killed still reports what it printed. */
const RUN_LIMIT = 240_000;
/** How long the kernel may take to show a cleanup's outcome; with RUN_LIMIT under the test's own deadline, so a hang names what it saw. */
const SETTLE = 120_000;

/** Where each lane's engine puts a container (`0::` line of /proc/<pid>/cgroup; <id> = full ID). */
const CGROUP_OF: Record<string, (id: string) => string> = {
  'v2-docker20/docker': (id) => `/docker/${id}`,
  'v2-docker26-podman5/docker': (id) => `/system.slice/docker-${id}.scope`,
  'v2-docker26-podman5/podman': (id) => `/machine.slice/libpod-${id}.scope/container`,
};

interface AuditEntry {
  id: string;
  status: string;
  pids: { current: number | null; max: number | null; source: string };
  processes: { total: number | null; matching: number | null; zombies: number | null; source: string; fallbackReason?: string };
}

/** every PID in cgroup.procs of DIR and of all its descendants (crun may add a leaf) */
function subtreeProcs(dir: string): number[] {
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const kids = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [...own, ...kids.flatMap((k) => subtreeProcs(join(dir, k.name)))];
}

const live = (procs: HostProc[]) => procs.filter((p) => p.state !== 'Z');
const identity = (p: HostProc) => `${p.hostPid}@${p.startTicks}`;
const byStart = (a: Chain, b: Chain) => a.npm.startTicks - b.npm.startTicks || a.npm.hostPid - b.npm.hostPid;

interface Kernel {
  procs: HostProc[];
  current: number;
  max: number | null;
  /** what must not change while pidwarden looks */
  key: string;
}

function kernelOf(w: Workload): Kernel {
  const procs = hostProcsOfContainer(w);
  const f = pidsFiles(w);
  return { procs, current: f.current, max: f.max === 'max' ? null : f.max, key: JSON.stringify([procs.map(identity), f.current, f.max]) };
}

/** `audit --json` of the workloads with the kernel read right before and right after (equal: settled) */
async function auditAgainstKernel(ws: Workload[], extra: string[]): Promise<Array<{ w: Workload; entry: AuditEntry; truth: Kernel }>> {
  const before = ws.map(kernelOf);
  const r = await runPidwarden(['audit', '--json', ...ws.flatMap((w) => ['--container', w.name]), ...extra], { timeoutMs: RUN_LIMIT });
  expect(ws.map(kernelOf).map((k) => k.key)).toEqual(before.map((k) => k.key));
  // 19 processes > --max-procs 15: critical, exit 1
  expect({ ...outcome(r), stderr: r.stderr }).toEqual({ code: 1, stderr: '', timedOut: false });
  const doc = JSON.parse(r.stdout) as { containers: AuditEntry[] };
  return ws.map((w, i) => ({ w, entry: doc.containers.find((c) => c.id === w.id)!, truth: before[i]! }));
}

function expectEqualsKernel(entry: AuditEntry, truth: Kernel, source: 'ps' | 'host-proc'): void {
  expect(entry.processes).toMatchObject({
    total: truth.procs.length,
    // runaway trees (README: How it decides), stated again on the kernel's list in runaway-truth.ts
    matching: runawayRoots(truth.procs, [/^npm exec /u]).length,
    zombies: truth.procs.length - live(truth.procs).length,
    source,
  });
  expect(entry.processes.total).toBe(PROCS);
  // the VM lanes are cgroup v2 only; the lanes on this host are v1 hybrid
  expect(entry.pids).toMatchObject({ current: truth.current, max: truth.max, source: LANE.startsWith('v2-') ? 'cgroup-v2' : 'cgroup-v1' });
  expect(entry.pids.max).toBe(200);
  // pids.current counts tasks: each live process's threads
  expect(truth.current).toBe(live(truth.procs).reduce((n, p) => n + p.threads, 0));
  expect(entry.status).toBe('critical');
}

describeEngine(`lane ${LANE}, ${KIND}: audit equals the kernel; cleanup keeps the newest tree`, () => {
  let storm: Workload;
  let twin: Workload;

  beforeAll(async () => {
    const spec = { image: 'busybox', interval: 0.1, pidsLimit: 200, trees: [{ npx: MAGIC, copies: TREES }], threads: { app: 3, npm: 3, node: 2 } };
    storm = await startWorkload({ ...spec, name: 'storm' });
    twin = await startWorkload({ ...spec, name: 'twin' });
    for (const w of [storm, twin]) {
      await waitForChains(w, TREES, SLOW);
      await waitFor(() => live(hostProcsOfContainer(w)).length === PROCS, SLOW, 200, `${w.name}: ${PROCS} live processes`);
    }
  }, 2 * SLOW);

  test('the container\'s cgroup (on a VM lane: where its engine puts it on v2) holds exactly its processes', () => {
    for (const w of [storm, twin]) {
      const lines = readFileSync(`/proc/${initPidOf(w)}/cgroup`, 'utf8').split('\n').filter(Boolean);
      const expected = CGROUP_OF[`${LANE}/${KIND}`];
      if (expected) expect(lines).toEqual([`0::${expected(w.id)}`]);
      const dir = cgroupDir(w);
      expect(existsSync(join(dir, 'pids.max'))).toBe(true);
      const procs = hostProcsOfContainer(w);
      expect(subtreeProcs(dir).sort((a, b) => a - b)).toEqual(live(procs).map((p) => p.hostPid).sort((a, b) => a - b));
    }
  }, SLOW);

  test('audit --json --proc-source host (no exec at all): every figure equals the kernel', async () => {
    for (const { entry, truth } of await auditAgainstKernel([storm, twin], ['--proc-source', 'host'])) {
      expectEqualsKernel(entry, truth, 'host-proc');
    }
  }, SLOW);

  test('audit --json (ps in the container): every figure equals the kernel', async () => {
    // pidwarden gives an exec 5 s (src/commands/context.ts); a TCG guest on a loaded 2-core host
    // takes longer now and then, and pidwarden then falls back to the host's /proc while its `ps`
    // still runs in the container, counting it. Such a run says nothing about the ps path: a
    // new one is made, 5 in all (Docker 26 + runc under load needed 3).
    let results = await auditAgainstKernel([storm, twin], []);
    for (let attempt = 2; attempt <= 5 && results.some((x) => /timed out/.test(x.entry.processes.fallbackReason ?? '')); attempt++) {
      console.error(`[smoke] ps exec timed out (${results.map((x) => x.entry.processes.fallbackReason).join('; ')}): audit attempt ${attempt}`);
      results = await auditAgainstKernel([storm, twin], []);
    }
    for (const { entry, truth } of results) expectEqualsKernel(entry, truth, 'ps');
  }, 5 * SLOW);

  test('cleanup --container storm --grace 1: the newest tree stays, the others are gone, the twin is untouched', async () => {
    const stormBefore = liveChains(hostProcsOfContainer(storm)).sort(byStart);
    const twinBefore = live(hostProcsOfContainer(twin)).map(identity).sort();
    expect(stormBefore.map((c) => c.npm.argv[0])).toEqual(Array(TREES).fill(MAGIC_TITLE));
    const newest = stormBefore[stormBefore.length - 1]!;

    const r = await runPidwarden(['cleanup', '--container', storm.name, '--grace', '1'], { timeoutMs: RUN_LIMIT });
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const steps = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; step?: string });
    expect(steps.filter((l) => l.event === 'step').map((l) => l.step)).toEqual(['dedupe']);

    // what the wait names when it runs out: the processes left, and what the cleanup printed
    const left = (procs: HostProc[]) => procs.map((p) => `${p.pid}:${p.state}:${p.argv.join(' ') || p.comm}`).join(', ');
    let seen: HostProc[] = [];
    const after = await waitFor(() => {
      seen = hostProcsOfContainer(storm);
      return seen.length === 4 ? seen : null;
    }, SETTLE, 200, 'storm down to the app and one tree').catch((e: Error) => {
      throw new Error(`${e.message}; left: ${left(seen)}; cleanup printed: ${r.stdout}${r.stderr}`);
    });
    expect(liveChains(after).map((c) => [c.npm, c.sh!, c.node!].map(identity))).toEqual([[newest.npm, newest.sh!, newest.node!].map(identity)]);
    expect(live(hostProcsOfContainer(twin)).map(identity).sort()).toEqual(twinBefore);
  }, RUN_LIMIT + SETTLE + 60_000);
});
