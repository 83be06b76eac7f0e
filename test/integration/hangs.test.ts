/**
 * No hangs, no crashes, and paused containers, against the real private engine and the kernel:
 *   - an engine that accepts connections and never answers (unix socket and loopback TCP):
 *     audit and cleanup exit 3 within --timeout plus a second, with one line; the monitor waits;
 *   - a container whose `ps` never returns (pidwarden-test/hangps): the probe is abandoned at
 *     --timeout and its process killed through its host PID; in the monitor, the other
 *     containers' ladders and the heartbeat go on meanwhile;
 *   - a --log-file on a full tmpfs during a cleanup: the kills complete, the exit code (4) and
 *     stderr say what happened, the lines that could not be written are on stderr;
 *   - a paused container: audit reports `paused`, cleanup and monitor leave it alone.
 * Every action is selected explicitly (--container). Waits are waitFor() on the kernel's or the
 * log's truth, never fixed sleeps.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeEngine,
  docker,
  dockerOk,
  engine,
  HANGPS_IMAGE,
  hostProcsOfContainer,
  liveChains,
  PIDWARDEN_BIN,
  readHostProc,
  REPO_ROOT,
  RUN_ID,
  RUN_LABEL,
  runPidwarden,
  startWorkload,
  waitFor,
  waitForChains,
  type HostProc,
  type Workload,
  outcome,
  parseJsonl,
  readJsonl,
} from './harness.ts';
import { MAGIC, RUV } from './packages.ts';
import { PRIVATE_CGROUPNS_HINT } from '../../src/observe/cgroup-namespace.ts';

setDefaultTimeout(90_000);

interface LogLine {
  time: string;
  event: string;
  container?: string;
  containerId?: string;
  reason?: string;
  healthy?: boolean;
  cycles?: number;
  dryRun?: boolean;
  [k: string]: unknown;
}

const jsonl = (text: string): LogLine[] => parseJsonl<LogLine>(text);

// PID 1 reaps adopted orphans too (tini's way): with its default (its own children only) a `node`
// whose `sh` exited before reaping it stayed a zombie of PID 1 for good, 3 processes > 2, and the
// ladder could never end healthy (2 of 10 runs of the monitor test on an idle machine: two `node`
// zombies, parent PID 1). Reaping is not what these tests are about.
const STORM = { trees: [{ npx: MAGIC, copies: 3 }, RUV], interval: 0.05, reap: 'all' as const };
/** PID 1 alone is healthy; 4 trees of 3 processes are not, and only killing all of them makes it healthy. */
const UNHEALTHY = ['--max-procs', '2'];
const KILL_STEPS = ['--steps', 'dedupe,oldest,all', '--grace', '1'];

/** Live processes by host PID and start time: the identity a kill would change. */
const identities = (procs: HostProc[]) => procs.filter((p) => p.state !== 'Z').map((p) => `${p.hostPid}@${p.startTicks}`).sort();

/** Live processes of a container running the hung ps (`sleep 86400`, what its /bin/ps execs). */
/** Each call of the image's ps, as it noted it (scripts/test-images.sh, rootfs_hangps). */
const psCalls = (w: Workload) => dockerOk('exec', w.id, 'cat', '/tmp/ps-calls').split('\n').filter(Boolean);
const hungPs = (w: Workload) => hostProcsOfContainer(w).filter((p) => p.state !== 'Z' && p.argv[0] === 'sleep' && p.argv[1] === '86400');

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(REPO_ROOT, '.tmp', 'hangs-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describeEngine('an engine that accepts the connection and never answers', () => {
  let unixServer: { stop(closeActive?: boolean): void } | undefined;
  let tcpServer: { stop(closeActive?: boolean): void } | undefined;
  let unixAddr = '';
  let tcpAddr = '';
  /** connections the mute engine accepted: proof that pidwarden did reach it */
  let accepted = 0;
  const mute = { open: () => void accepted++, data: () => {} };

  beforeAll(() => {
    const sock = join(tmp, 'mute.sock');
    unixServer = Bun.listen({ unix: sock, socket: mute });
    unixAddr = `unix://${sock}`;
    const tcp = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: mute });
    tcpServer = tcp;
    tcpAddr = `tcp://127.0.0.1:${tcp.port}`;
  });
  afterAll(() => {
    unixServer?.stop(true);
    tcpServer?.stop(true);
  });

  const TIMEOUT_S = 2;
  for (const [command, transport] of [['audit', 'unix'], ['cleanup', 'unix'], ['audit', 'tcp'], ['cleanup', 'tcp']] as const) {
    test(`${command} over ${transport}: exit 3 within --timeout ${TIMEOUT_S} plus a second, one line on stderr`, async () => {
      const addr = transport === 'unix' ? unixAddr : tcpAddr;
      const before = accepted;
      const t0 = performance.now();
      const r = await runPidwarden([command, '--docker-host', addr, '--timeout', String(TIMEOUT_S), ...(command === 'cleanup' ? ['--container', 'hangs'] : [])], { timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`pidwarden: cannot reach the Docker engine at ${addr}: no answer within ${TIMEOUT_S} s (--timeout)\n`);
      expect(r.stdout).toBe('');
      expect(accepted).toBeGreaterThan(before);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
      expect(ms).toBeLessThan(TIMEOUT_S * 1000 + 8000); // the deadline, not a hang; loose: CI shares 2 cores
    });
  }

  test('the monitor does not exit: engine-down, retries, stops cleanly on SIGTERM', async () => {
    const log = join(tmp, 'mute-monitor.jsonl');
    const proc = Bun.spawn([PIDWARDEN_BIN, 'monitor', '--docker-host', unixAddr, '--timeout', '1', '--interval', '0.5', '--container', 'hangs', '--log-file', log], {
      cwd: REPO_ROOT,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      const down = await waitFor(() => readJsonl<LogLine>(log).find((l) => l.event === 'engine-down'), 15_000, 100, 'engine-down');
      expect(down.reason).toContain('no answer within 1 s (--timeout)');
      expect(proc.exitCode).toBeNull();
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describeEngine('a container whose ps never returns', () => {
  test('audit: the probe is abandoned at --timeout, its process killed, the table read from the host', async () => {
    const w = await startWorkload({ image: HANGPS_IMAGE, name: 'hung-audit', ...STORM });
    await waitForChains(w, 4);
    const r = await runPidwarden(['audit', '--container', w.name, '--json', '--timeout', '2', ...UNHEALTHY], { timeoutMs: 30_000 });
    expect(r.code).toBe(1); // the storm makes it critical: read through the host's /proc
    const doc = JSON.parse(r.stdout) as { containers: Array<{ processes: { source: string; fallbackReason?: string; total: number } }> };
    const c = doc.containers[0]!;
    expect(c.processes.source).toBe('host-proc');
    expect(c.processes.fallbackReason).toMatch(/^exec of ps timed out after 2000 ms \(--timeout\); its process \(host PID \d+\) was killed$/);
    expect(c.processes.total).toBeGreaterThan(2);
    // one timed-out probe, not one per ps attempt (the image's ps notes each call)
    expect(psCalls(w)).toHaveLength(1);
    const killedPid = Number(/host PID (\d+)/.exec(c.processes.fallbackReason!)![1]);
    await waitFor(() => hungPs(w).length === 0, 10_000, 100, 'no hung ps left in the container');
    const now = readHostProc(killedPid);
    expect(now === null || now.argv[0] !== 'sleep').toBe(true);
  });

  test('cleanup: the first probe times out, the rest of the ladder reads the host; one ps run in all, none left', async () => {
    const w = await startWorkload({ image: HANGPS_IMAGE, name: 'hung-cleanup', ...STORM });
    await waitForChains(w, 4);
    const r = await runPidwarden(['cleanup', '--container', w.name, '--timeout', '2', ...UNHEALTHY, ...KILL_STEPS], { timeoutMs: 60_000 });
    expect(outcome(r)).toEqual({ code: 0, timedOut: false });
    const lines = jsonl(r.stdout);
    expect(lines.filter((l) => l.event === 'step').length).toBeGreaterThanOrEqual(2); // looks after each step
    expect(lines.find((l) => l.event === 'result')).toMatchObject({ healthy: true });
    // each look after a step would otherwise wait --timeout for a ps of its own
    expect(psCalls(w)).toHaveLength(1);
    await waitFor(() => hungPs(w).length === 0, 10_000, 100, 'no hung ps left in the container');
  });

  test('monitor: while one container is stuck, the other is cleaned and the heartbeat goes on; the stuck one gets an error line', async () => {
    const [stuck, other] = await Promise.all([
      startWorkload({ image: HANGPS_IMAGE, name: 'stuck', ...STORM }),
      startWorkload({ image: 'busybox', name: 'other', ...STORM }),
    ]);
    await Promise.all([waitForChains(stuck, 4), waitForChains(other, 4)]);
    const log = join(tmp, 'stuck-monitor.jsonl');
    const TIMEOUT_S = 6;
    const proc = Bun.spawn(
      [PIDWARDEN_BIN, 'monitor', '--container', stuck.name, '--container', other.name, '--timeout', String(TIMEOUT_S), '--interval', '0.3', '--heartbeat', '1',
        ...UNHEALTHY, ...KILL_STEPS, '--log-file', log],
      { cwd: REPO_ROOT, env: { ...process.env, DOCKER_HOST: engine.host ?? '' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    const stderr = new Response(proc.stderr).text();
    try {
      const lines = () => readJsonl<LogLine>(log);
      const stuckError = await waitFor(() => lines().find((l) => l.event === 'error' && l.containerId === stuck.id), 40_000, 100, 'an error line for the stuck container');
      expect(stuckError.reason).toMatch(new RegExp(`^exec of ps timed out after ${TIMEOUT_S * 1000} ms \\(--timeout\\); its process \\(host PID \\d+\\) was killed; reading the host's /proc instead for the next 0\\.3 s$`));
      // Before the stuck probe gave up: the other container was cleaned, and heartbeats went on.
      const start = lines().find((l) => l.event === 'start')!;
      const before = lines().filter((l) => l.time <= stuckError.time);
      // (under load a first ladder can end a moment before the app reaped its last child; the next
      // cycle then finishes: what matters is that it was cleaned while the other probe hung)
      expect(before.some((l) => l.event === 'result' && l.containerId === other.id && l.healthy === true)).toBe(true);
      expect(before.some((l) => l.event === 'kill' && l.containerId === other.id)).toBe(true);
      const beats = before.filter((l) => l.event === 'heartbeat');
      expect(beats.length).toBeGreaterThanOrEqual(2);
      expect(Date.parse(stuckError.time) - Date.parse(start.time)).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
      expect(liveChains(hostProcsOfContainer(other))).toHaveLength(0);
      // The stuck container is cleaned too, through the host's /proc, and no hung ps is left in it.
      await waitFor(() => lines().some((l) => l.event === 'result' && l.containerId === stuck.id && l.healthy === true), 60_000, 200, 'the stuck container cleaned');
      await waitFor(() => hungPs(stuck).length === 0, 20_000, 100, 'no hung ps left in the stuck container');
      expect(proc.exitCode).toBeNull();
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(await stderr).toBe('');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describeEngine('a --log-file on a full tmpfs during a cleanup', () => {
  let mnt = '';
  beforeAll(() => {
    mnt = join(tmp, 'full');
    mkdirSync(mnt);
    const m = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', mnt], { stderr: 'pipe' });
    if (m.exitCode !== 0) throw new Error(`mount tmpfs: ${m.stderr.toString()}`);
    // Fill it to the last byte (dd stops at ENOSPC): every later write fails with ENOSPC.
    Bun.spawnSync(['dd', 'if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4096'], { stderr: 'pipe' });
    let probe = '';
    try {
      appendFileSync(join(mnt, 'probe'), 'x');
    } catch (e) {
      probe = (e as NodeJS.ErrnoException).code ?? String(e);
    }
    if (probe !== 'ENOSPC') throw new Error(`the tmpfs at ${mnt} is not full (a probe write gave "${probe || 'success'}")`);
  });
  afterAll(() => {
    if (mnt) Bun.spawnSync(['umount', mnt]);
  });

  test('the kills complete; exit 4; stderr says ENOSPC once and carries the lines that could not be written', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'full-log', ...STORM });
    await waitForChains(w, 4);
    const logFile = join(mnt, 'pidwarden.jsonl');
    const r = await runPidwarden(['cleanup', '--container', w.name, ...UNHEALTHY, ...KILL_STEPS, '--log-file', logFile], { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(liveChains(hostProcsOfContainer(w))).toHaveLength(0);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr.match(/cannot write the log/g)).toHaveLength(1);
    expect(r.stderr).toContain(`pidwarden: cannot write the log to ${logFile} (ENOSPC); actions go on`);
    expect(r.stderr).toContain(`could not be written to ${logFile} (ENOSPC)`);
    const held = jsonl(r.stderr.split('\n').filter((l) => l.startsWith('{')).join('\n'));
    expect(held.some((l) => l.event === 'kill' && l.containerId === w.id)).toBe(true);
    expect(held.at(-1)).toMatchObject({ event: 'result', containerId: w.id, healthy: true });
    expect(r.stderr).toMatch(new RegExp(`${w.name}: steps .*; healthy\\n`));
    expect(readFileSync(logFile, 'utf8')).toBe('');
  });
});

describeEngine('a monitor whose stdout reader went away (EPIPE)', () => {
  test('it keeps cleaning; the failure is said once; the lines it could not write are on stderr at the stop', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'epipe', ...STORM });
    await waitForChains(w, 4);
    // `| true`: the reader exits at once, so every write to stdout fails with EPIPE. A constant
    // shell line; the binary and its arguments are passed as arguments, never spliced in.
    const proc = Bun.spawn(
      ['sh', '-c', '"$0" "$@" | true', PIDWARDEN_BIN, 'monitor', '--container', w.name, '--interval', '0.3', ...UNHEALTHY, ...KILL_STEPS],
      { cwd: REPO_ROOT, env: { ...process.env, DOCKER_HOST: engine.host ?? '' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    const stderr = new Response(proc.stderr).text();
    try {
      const monitorPid = await waitFor(() => {
        const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
        return children.find((c) => readHostProc(c)?.argv[1] === 'monitor') ?? null;
      }, 10_000, 50, 'the monitor under sh');
      await waitFor(() => liveChains(hostProcsOfContainer(w)).length === 0, 30_000, 100, 'the storm cleaned');
      expect(readHostProc(monitorPid)?.argv[1]).toBe('monitor'); // still running
      process.kill(monitorPid, 'SIGTERM');
      expect(await proc.exited).toBe(0);
      const err = await stderr;
      expect(err.match(/cannot write the log to stdout \(EPIPE\)/g)).toHaveLength(1);
      const held = jsonl(err.split('\n').filter((l) => l.startsWith('{')).join('\n'));
      expect(held.some((l) => l.event === 'kill' && l.containerId === w.id)).toBe(true);
      expect(held.at(-1)?.event).toBe('stop');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describeEngine('a paused container', () => {
  let w: Workload;
  let frozen: string[] = [];
  beforeAll(async () => {
    w = await startWorkload({ image: 'busybox', name: 'paused', ...STORM });
    await waitForChains(w, 4);
    dockerOk('pause', w.id);
    frozen = identities(hostProcsOfContainer(w));
  });
  afterAll(() => {
    if (w) docker('unpause', w.id); // may be gone already (the block's removeAll)
  });

  test('audit reports it as paused (table and JSON), exit 0', async () => {
    const json = await runPidwarden(['audit', '--container', w.name, '--json', ...UNHEALTHY]);
    expect(json.code).toBe(0);
    const c = (JSON.parse(json.stdout) as { containers: Array<{ status: string; state: string; reasons: string[] }> }).containers[0]!;
    expect(c.status).toBe('paused');
    expect(c.state).toBe('paused');
    expect(c.reasons[0]).toStartWith('paused: ');
    const table = await runPidwarden(['audit', '--container', w.name, ...UNHEALTHY]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^PAUSED +${w.name} `));
  });

  test('cleanup leaves it alone and says why', async () => {
    const r = await runPidwarden(['cleanup', '--container', w.name, ...UNHEALTHY, '--grace', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${w.name}: paused: its processes are frozen; pidwarden never acts on a paused container (docker unpause first); left alone\n`);
    const lines = jsonl(r.stdout);
    expect(lines.map((l) => l.event)).toEqual(['skipped']);
    expect(identities(hostProcsOfContainer(w))).toEqual(frozen);
  });

  test('monitor leaves it alone over several cycles', async () => {
    const log = join(tmp, 'paused-monitor.jsonl');
    const proc = Bun.spawn([PIDWARDEN_BIN, 'monitor', '--container', w.name, '--interval', '0.2', '--heartbeat', '0.5', ...UNHEALTHY, '--grace', '1', '--log-file', log], {
      cwd: REPO_ROOT,
      env: { ...process.env, DOCKER_HOST: engine.host ?? '' },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      const lines = () => readJsonl<LogLine>(log);
      await waitFor(() => lines().some((l) => l.event === 'heartbeat' && (l.cycles ?? 0) >= 5), 20_000, 100, 'five cycles');
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      const events = lines().map((l) => l.event);
      expect(events.filter((e) => e === 'skipped')).toHaveLength(1);
      expect(events.filter((e) => ['step', 'kill', 'restart', 'result', 'error'].includes(e))).toEqual([]);
      expect(identities(hostProcsOfContainer(w))).toEqual(frozen);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describeEngine('pidwarden in a container with a private cgroup namespace', () => {
  test('audit says why it finds no cgroup, and the fix (--cgroupns host / cgroup: host)', async () => {
    const b = Bun.spawnSync(['bash', join(REPO_ROOT, 'examples', 'build-image.sh')], {
      env: { ...process.env, DOCKER_HOST: engine.host ?? '' },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    expect(b.exitCode).toBe(0);
    const w = await startWorkload({ image: 'busybox', name: 'cgns-target', trees: [MAGIC] });
    const sock = (engine.host ?? '').replace(/^unix:\/\//, '');
    // As examples/docker-run.sh, but with the private cgroup namespace a cgroup v2 host gives by default.
    const r = docker(
      'run', '--rm', '--pid', 'host', '--cgroupns', 'private', '--network', 'none', '--label', `${RUN_LABEL}=${RUN_ID}`,
      '-v', `${sock}:/var/run/docker.sock`, '-v', '/sys/fs/cgroup:/host/sys/fs/cgroup:ro',
      'pidwarden:local', 'audit', '--container', w.id, '--cgroup-root', '/host/sys/fs/cgroup', '--json',
    );
    expect(r.stderr).toBe('');
    const c = (JSON.parse(r.stdout) as { containers: Array<{ pids: { source: string }; problems: string[] }> }).containers[0]!;
    expect(c.pids.source).not.toMatch(/^cgroup/);
    expect(c.problems).toContain(PRIVATE_CGROUPNS_HINT);
  });
});
