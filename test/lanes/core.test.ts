/**
 * The checks every test lane runs against its host's engine (scripts/test.sh: docker20-v1 and
 * podman-v1 on this host, the cgroup v2 lanes inside their VM): whatever engine
 * PIDWARDEN_TEST_DOCKER_HOST points to, of the kind PIDWARDEN_TEST_ENGINE_KIND says (`docker` or
 * `podman`), and the same engine on 127.0.0.1 at PIDWARDEN_TEST_DOCKER_TCP.
 *
 * Every figure pidwarden prints is compared with the kernel of that host (its /proc and the
 * container's cgroup files, read by test/integration/harness.ts), never with pidwarden's word:
 *   - audit (ps, --proc-source host, and the API-only path over TCP): total, matching, zombies,
 *     pids.current and pids.max;
 *   - a storm cleaned down to its newest tree, its twin container and a host tree with the same
 *     title untouched (host PID + start time before and after);
 *   - a container at its pids limit: audited, then cleaned;
 *   - a container without ps, kill or cat: audited and cleaned from the host;
 *   - the monitor cleaning a storm started under it.
 *
 * Needs only the engine, the workload (.tmp/workload/bin/fakenode, scripts/build-workload.sh),
 * the images of scripts/test-images.sh and dist/pidwarden. Each lane's figures (kernel vs
 * pidwarden, cleanup times) go to .tmp/lane-results/<lane>-<engine kind>.json for the README's
 * "Tested hosts" table (PIDWARDEN_TEST_RESULTS_DIR overrides the directory).
 */
import { expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  describeEngine,
  docker,
  dockerOk,
  type HostProc,
  hostProcsOfContainer,
  liveChains,
  PIDWARDEN_BIN,
  pidsFiles,
  readHostProc,
  REPO_ROOT,
  RUN_ID,
  RUN_LABEL,
  runPidwarden,
  startHostTree,
  startWorkload,
  waitFor,
  waitForChains,
  type Workload,
  parseJsonl,
  outcome,
} from '../integration/harness.ts';
import { FIGMA, MAGIC } from '../integration/packages.ts';
import { runawayRoots } from '../integration/runaway-truth.ts';
import { LANE, laneResults } from './lane-results.ts';

// Under a loaded 2-core host a cleanup takes ~1 s, inside a TCG VM ~15 s (v2vm README).
setDefaultTimeout(180_000);
/** A cleanup's own deadline: under the test's, so that a run that is killed still reports what it printed. */
const RUN_LIMIT = 120_000;

const TCP = process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '';
const MATCH = /^npm exec /;

// ---------------------------------------------------------------- figures

interface Figures {
  total: number;
  matching: number;
  zombies: number;
  pidsCurrent: number | null;
  pidsMax: number | null;
}

interface AuditedContainer {
  name: string;
  pids: { current: number | null; max: number | null; source: string };
  processes: { total: number; matching: number; zombies: number; source: string; fallbackReason?: string } | null;
}

/** The kernel's figures for the container: processes of its PID namespace + cgroup, its pids files. */
function kernelFigures(w: Workload): Figures {
  const procs = hostProcsOfContainer(w);
  const files = pidsFiles(w);
  return {
    total: procs.length,
    // runaway trees (README: How it decides), stated again on the kernel's list in runaway-truth.ts
    matching: runawayRoots(procs, [MATCH]).length,
    zombies: procs.filter((p) => p.state === 'Z').length,
    pidsCurrent: files.current,
    pidsMax: effectivePidsMax(files.dir),
  };
}

/**
 * The limit the kernel enforces: the smallest pids.max from the container's cgroup up to the root
 * of the hierarchy (Podman 5 under systemd: the libpod-<id>.scope above the `container` leaf holds
 * systemd's default 4686, measured in the v2-docker26-podman5 lane). null: no limit anywhere.
 */
function effectivePidsMax(dir: string): number | null {
  let best: number | null = null;
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    let text: string;
    try {
      text = readFileSync(join(d, 'pids.max'), 'utf8').trim();
    } catch {
      break; // the root of the hierarchy has no pids.max
    }
    if (text !== 'max' && (best === null || Number(text) < best)) best = Number(text);
  }
  return best;
}

function pidwardenFigures(c: AuditedContainer): Figures {
  return {
    total: c.processes?.total ?? -1,
    matching: c.processes?.matching ?? -1,
    zombies: c.processes?.zombies ?? -1,
    pidsCurrent: c.pids.current,
    pidsMax: c.pids.max,
  };
}

async function auditOne(w: Workload, extra: string[] = []): Promise<AuditedContainer> {
  const r = await runPidwarden(['audit', '--json', '--container', w.name, ...extra]);
  // exit 1 = critical, a verdict, not a failure
  expect([0, 1]).toContain(r.code);
  const doc = JSON.parse(r.stdout) as { containers: AuditedContainer[] };
  expect(doc.containers).toHaveLength(1);
  return doc.containers[0]!;
}

/**
 * Audits while the container holds still: the kernel is read before and after the audit, and the
 * comparison is made only when both readings agree (a thread starting during the audit would
 * otherwise make either side look wrong). Returns both sides.
 */
async function auditAgainstKernel(w: Workload, extra: string[] = []): Promise<{ kernel: Figures; pidwarden: Figures; audited: AuditedContainer }> {
  return waitFor(async () => {
    const before = kernelFigures(w);
    const audited = await auditOne(w, extra);
    const after = kernelFigures(w);
    if (JSON.stringify(before) !== JSON.stringify(after)) return null;
    return { kernel: after, pidwarden: pidwardenFigures(audited), audited };
  }, 60_000, 200, 'an audit while the kernel figures held still');
}

// ----------------------------------------------------------------- results

const record = laneResults();

// -------------------------------------------------------------- the JSONL log

interface LogLine {
  event: string;
  container?: string;
  step?: string;
  signal?: string;
  pids?: number[];
  hostPids?: number[];
  via?: string;
  healthy?: boolean;
  before?: { processes: number | null; pidsCurrent: number | null };
  after?: { processes: number | null; pidsCurrent: number | null };
}

const parseLog = (text: string): LogLine[] => parseJsonl<LogLine>(text);

/**
 * Every host PID pidwarden says it signalled is gone now (or a zombie), as the kernel sees it. A
 * PID missing from `before` is a process the app started between two steps of the ladder (at the
 * pids limit it retries every 0.5 s, test/workload/fakenode.c): it must be gone too.
 */
function expectSignalledGone(lines: LogLine[], before: HostProc[]): void {
  const killed = [...new Set(lines.filter((l) => l.event === 'kill').flatMap((l) => l.hostPids ?? []))];
  const survivors = killed.flatMap((hostPid) => {
    const was = before.find((p) => p.hostPid === hostPid);
    const now = readHostProc(hostPid);
    if (now === null || now.state === 'Z' || (was && now.startTicks !== was.startTicks)) return [];
    return [{ hostPid, argv: now.argv, state: now.state, nspid: now.nspid }];
  });
  if (survivors.length > 0) console.error(`[lane ${LANE}] log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  expect(survivors).toEqual([]);
}

/** host PID + start time: the identity a kill must never confuse */
const identities = (procs: HostProc[]) => procs.map((p) => `${p.hostPid}@${p.startTicks}`).sort();

// ------------------------------------------------------------------- checks

describeEngine(`lane ${LANE}: audit figures equal the kernel's`, () => {
  let w: Workload;

  test('a container with duplicates and a zombie: ps, host /proc and the API (TCP) all agree with the kernel', async () => {
    w = await startWorkload({ image: 'busybox', name: 'counts', pidsLimit: 200, trees: [{ npx: MAGIC, copies: 3 }, FIGMA] });
    const chains = liveChains(await waitForChains(w, 4));
    // A zombie as a Node app makes them: the app reaps its own npm but not the adopted sh.
    const figma = chains.find((c) => c.npm.argv[0] === 'npm exec figma-mcp')!;
    process.kill(figma.npm.hostPid, 'SIGKILL');
    await waitFor(() => !hostProcsOfContainer(w).some((p) => p.hostPid === figma.npm.hostPid), 20_000, 50, 'npm reaped');
    process.kill(figma.node!.hostPid, 'SIGKILL');
    await waitFor(() => hostProcsOfContainer(w).some((p) => p.hostPid === figma.sh!.hostPid && p.state === 'Z'), 20_000, 50, 'the sh zombie');

    const ps = await auditAgainstKernel(w);
    expect(ps.audited.processes?.source).toBe('ps');
    expect(ps.kernel.zombies).toBe(1);
    expect(ps.kernel.matching).toBe(3);
    expect(ps.pidwarden).toEqual(ps.kernel);

    const host = await auditAgainstKernel(w, ['--proc-source', 'host']);
    expect(host.audited.processes?.source).toBe('host-proc');
    expect(host.pidwarden).toEqual(host.kernel);
    record('audit', { ps: { kernel: ps.kernel, pidwarden: ps.pidwarden }, host: { kernel: host.kernel, pidwarden: host.pidwarden } });
  });

  test('selected by label, through the engine\'s container listing: the same container, the same figures', async () => {
    // every engine's listing, Podman's included (it refuses a status filter of `restarting`)
    const r = await runPidwarden(['audit', '--json', '--label', `${RUN_LABEL}=${RUN_ID}`]);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { containers: AuditedContainer[] };
    expect(doc.containers.map((c) => c.name)).toContain(w.name);
  });

  test('a paused container is listed too, and reported as paused: Podman\'s default listing leaves it out', async () => {
    const paused = await startWorkload({ image: 'busybox', name: 'paused', interval: 0.05, threads: 1, labels: { 'pwt.paused': RUN_ID } });
    dockerOk('pause', paused.id);
    try {
      const r = await runPidwarden(['audit', '--json', '--label', `pwt.paused=${RUN_ID}`]);
      expect(r.stderr).toBe('');
      const doc = JSON.parse(r.stdout) as { containers: Array<{ name: string; status: string; state: string }> };
      expect(doc.containers.map((c) => ({ name: c.name, status: c.status, state: c.state }))).toEqual([{ name: paused.name, status: 'paused', state: 'paused' }]);
    } finally {
      docker('unpause', paused.id);
    }
  });

  // The remote path reads no /proc and no cgroup fs, so the host's kind does not change it: it is
  // checked on the lanes on this host (docker20-v1, podman-v1), whose engines also listen on
  // 127.0.0.1; the VM lanes' engines have no TCP listener.
  test.if(!LANE.startsWith('v2-'))('over TCP (no /proc, no cgroup fs: the API and exec only) the figures equal the kernel too, pids.max included', async () => {
    if (TCP === '') {
      if (process.env.CI === 'true') throw new Error('PIDWARDEN_TEST_DOCKER_TCP is not set (CI=true)');
      console.warn(`[lane ${LANE}] skipped: PIDWARDEN_TEST_DOCKER_TCP is not set`);
      return;
    }
    const tcp = await auditAgainstKernel(w, ['--docker-host', TCP]);
    expect(tcp.audited.pids.source).toBe('api');
    // Podman's one-shot stats carry pids_stats.current but no limit: pidwarden takes the limit
    // from the container's HostConfig.PidsLimit then.
    expect(tcp.pidwarden).toEqual(tcp.kernel);
    record('audit-tcp', { kernel: tcp.kernel, pidwarden: tcp.pidwarden });
  });
});

describeEngine(`lane ${LANE}: a storm is cleaned to its newest tree; twin and host decoy untouched`, () => {
  test('cleanup --container storm: one tree left, the newest; the twin and the host tree keep every PID', async () => {
    const storm = await startWorkload({ image: 'busybox', name: 'storm', trees: [{ npx: MAGIC, copies: 6 }] });
    const twin = await startWorkload({ image: 'busybox', name: 'twin', trees: [{ npx: MAGIC, copies: 6 }] });
    const decoy = startHostTree(MAGIC);
    const before = await waitForChains(storm, 6);
    const twinBefore = await waitForChains(twin, 6);
    const newest = liveChains(before).sort((a, b) => b.npm.startTicks - a.npm.startTicks)[0]!;
    const decoyBefore = [decoy.npm, decoy.sh, decoy.node].map((p) => readHostProc(p)!);

    const t0 = performance.now();
    const r = await runPidwarden(['cleanup', '--container', storm.name, '--grace', '1'], { timeoutMs: RUN_LIMIT });
    const cleanupMs = Math.round(performance.now() - t0);
    expect(r.stderr).not.toContain('    at '); // never a stack trace
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const lines = parseLog(r.stdout);
    const result = lines.find((l) => l.event === 'result')!;
    expect(result.healthy).toBe(true);
    expect(lines.filter((l) => l.event === 'kill').every((l) => l.container === storm.name)).toBe(true);
    expectSignalledGone(lines, before);

    // the JSONL comes after the last level was awaited: the kernel already agrees
    const after = hostProcsOfContainer(storm);
    const left = liveChains(after);
    expect(left).toHaveLength(1);
    expect(left[0]!.npm.hostPid).toBe(newest.npm.hostPid);
    expect(left[0]!.npm.startTicks).toBe(newest.npm.startTicks);
    expect(after.filter((p) => p.state !== 'Z')).toHaveLength(4); // PID 1 + npm, sh, node
    // what pidwarden says it left equals the kernel
    expect(result.after?.processes).toBe(after.length);

    expect(identities(hostProcsOfContainer(twin))).toEqual(identities(twinBefore));
    for (const p of decoyBefore) expect(readHostProc(p.hostPid)?.startTicks).toBe(p.startTicks);
    record('storm', { processesBefore: before.length, processesAfter: after.length, resultAfter: result.after, cleanupMs, via: [...new Set(lines.filter((l) => l.event === 'kill').map((l) => l.via))] });
  });
});

describeEngine(`lane ${LANE}: a container at its pids limit`, () => {
  test('audit: pids.current = pids.max = the kernel\'s, every process counted; cleanup brings it back under the ratio', async () => {
    const limit = 40;
    const w = await startWorkload({ image: 'busybox', name: 'atlimit', pidsLimit: limit, interval: 0.1, trees: [{ npx: MAGIC, copies: 5 }] });
    await waitFor(() => pidsFiles(w).current >= limit, 60_000, 100, `pids.current >= ${limit}`);
    const a = await auditAgainstKernel(w);
    expect(a.kernel.pidsMax).toBe(limit);
    expect(a.pidwarden).toEqual(a.kernel);

    const before = hostProcsOfContainer(w);
    const t0 = performance.now();
    const r = await runPidwarden(['cleanup', '--container', w.name, '--grace', '1'], { timeoutMs: RUN_LIMIT });
    const cleanupMs = Math.round(performance.now() - t0);
    expect(r.stderr).not.toContain('    at ');
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const lines = parseLog(r.stdout);
    const result = lines.find((l) => l.event === 'result')!;
    expect(result.healthy).toBe(true);
    expect(result.before?.pidsCurrent).toBe(limit);
    expect(result.after!.pidsCurrent!).toBeLessThan(0.8 * limit);
    expectSignalledGone(lines, before);
    record('atlimit', { audit: a.kernel, pidwarden: a.pidwarden, source: a.audited.processes?.source, resultBefore: result.before, resultAfter: result.after, cleanupMs, via: [...new Set(lines.filter((l) => l.event === 'kill').map((l) => l.via))] });
  });
});

describeEngine(`lane ${LANE}: a container without ps, kill or cat`, () => {
  test('audit from the host\'s /proc equals the kernel; cleanup signals from the host and keeps the newest tree', async () => {
    const w = await startWorkload({ image: 'nops', name: 'nops', trees: [{ npx: MAGIC, copies: 6 }] });
    const before = await waitForChains(w, 6);
    const a = await auditAgainstKernel(w);
    expect(a.audited.processes?.source).toBe('host-proc');
    expect(a.pidwarden).toEqual(a.kernel);

    const newest = liveChains(before).sort((x, y) => y.npm.startTicks - x.npm.startTicks)[0]!;
    const t0 = performance.now();
    const r = await runPidwarden(['cleanup', '--container', w.name, '--grace', '1'], { timeoutMs: RUN_LIMIT });
    const cleanupMs = Math.round(performance.now() - t0);
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const lines = parseLog(r.stdout);
    expect(lines.filter((l) => l.event === 'kill').every((l) => l.via === 'host')).toBe(true);
    expectSignalledGone(lines, before);
    const left = liveChains(hostProcsOfContainer(w));
    expect(left.map((c) => c.npm.hostPid)).toEqual([newest.npm.hostPid]);
    record('nops', { audit: a.kernel, pidwarden: a.pidwarden, cleanupMs });
  });
});

describeEngine(`lane ${LANE}: the monitor cleans a storm`, () => {
  test('monitor --label: a labelled storm is deduped to its newest tree on a cycle; SIGTERM stops it (exit 0)', async () => {
    // The storm is complete before the monitor starts: started under it, a cycle could come
    // between two trees and leave 2 (healthy) instead of 1, a race and not a check.
    const w = await startWorkload({ image: 'busybox', name: 'monstorm', labels: { 'pidwarden-test.lane': RUN_ID }, trees: [{ npx: MAGIC, copies: 6 }] });
    const before = await waitForChains(w, 6);
    const newest = liveChains(before).sort((x, y) => y.npm.startTicks - x.npm.startTicks)[0]!;
    const tmp = mkdtempSync(join(tmpdir(), 'pw-lane-'));
    const logFile = join(tmp, 'monitor.jsonl');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.DOCKER_HOST = process.env.PIDWARDEN_TEST_DOCKER_HOST!;
    const t0 = performance.now();
    const mon = Bun.spawn(
      [PIDWARDEN_BIN, 'monitor', '--label', `pidwarden-test.lane=${RUN_ID}`, '--interval', '0.5', '--grace', '1', '--log-file', logFile],
      { cwd: REPO_ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    let code: number | string = 'not stopped';
    try {
      const readLog = () => {
        try {
          return parseLog(readFileSync(logFile, 'utf8'));
        } catch {
          return [];
        }
      };
      const lines = await waitFor(() => {
        const l = readLog();
        return l.some((x) => x.event === 'result' && x.container === w.name && x.healthy === true) ? l : null;
      }, 120_000, 100, 'the monitor\'s healthy result');
      const healthyMs = Math.round(performance.now() - t0);
      expect(lines.filter((l) => l.event === 'kill').every((l) => l.container === w.name)).toBe(true);
      expectSignalledGone(lines, before);
      const now = hostProcsOfContainer(w);
      const left = liveChains(now);
      expect(left.map((c) => c.npm.hostPid)).toEqual([newest.npm.hostPid]);
      expect(now.filter((p) => p.state !== 'Z')).toHaveLength(4);
      record('monitor', { processesBefore: before.length, processesAfter: now.length, startToHealthyMs: healthyMs });
    } finally {
      mon.kill('SIGTERM');
      code = await Promise.race([mon.exited, Bun.sleep(30_000).then(() => 'hung')]);
      if (code === 'hung') mon.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(code).toBe(0);
  });
});

// Layout cases (pid=host, a nested PID namespace) join here, in blocks like the ones above.
