/**
 * `pidwarden monitor` (README: Running it for weeks) against the real private engine, run the way
 * operators run it: a background process with no stdin and no terminal,
 * `--log-file`, `--pid-file`, a short `--interval` and `--heartbeat`.
 *
 * Three monitors, each selecting its own label, so they never touch each
 * other's containers:
 *   m1  the daemon: storm clean-up, engine stop/start, SIGHUP, pid file,
 *       state dropped with the containers, RSS over its life, SIGTERM
 *   m2  --dry-run, started on a stale pid file
 *   m3  --restart-limit 1/1h against a container that kills cannot fix
 *
 * Truth comes from the kernel (host /proc and the container's cgroup) and
 * from the JSONL the monitor writes; every line of every log must parse.
 * Waits are waitFor() on those, never fixed sleeps.
 *
 * The engine stop/start uses scripts/engine.sh (PIDWARDEN_TEST_ENGINE_CTL):
 * dockerd stops, containerd keeps running, and with live-restore the
 * containers survive, so the monitor finds the same ones again.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  describeEngine,
  docker,
  dockerOk,
  engine,
  engineCtl,
  hostProcsOfContainer,
  initPidOf,
  liveChains,
  PIDWARDEN_BIN,
  pidwardenEnv,
  readHostProc,
  REPO_ROOT,
  RUN_ID,
  runPidwarden,
  startedTreePids,
  startWorkload,
  waitFor,
  waitForChains,
  type HostProc,
  type Workload,
} from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(60_000);

const INTERVAL = 0.3;
const MAX_PROCS = 8;
const LABEL_KEY = 'pidwarden-test.monitor';
const label = (m: string) => `${LABEL_KEY}=${RUN_ID}-${m}`;
const labels = (m: string) => ({ [LABEL_KEY]: `${RUN_ID}-${m}` });

interface LogLine {
  time: string;
  level: string;
  event: string;
  container?: string;
  containerId?: string;
  step?: string;
  signal?: string;
  pids?: number[];
  hostPids?: number[];
  commands?: string[];
  dryRun?: boolean;
  healthy?: boolean;
  engine?: string;
  containers?: number;
  actions?: number;
  rssBytes?: number;
  reason?: string;
  before?: { processes: number | null; pidsCurrent: number | null };
  after?: { processes: number | null; pidsCurrent: number | null };
  [k: string]: unknown;
}

/** Every line of a JSONL file, parsed; a line that does not parse fails the test (with the line). */
function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const out: LogLine[] = [];
  const lines = text.split('\n');
  // the last element is '' when the file ends with a newline; a partial last line would be a bug
  if (lines[lines.length - 1] !== '') throw new Error(`${path}: last line not terminated: ${JSON.stringify(lines[lines.length - 1])}`);
  for (const l of lines.slice(0, -1)) {
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      throw new Error(`${path}: a line is not JSON: ${JSON.stringify(l)}`);
    }
  }
  return out;
}


interface Monitor {
  name: string;
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  pid: number;
  logFile: string;
  pidFile: string;
  stdout: Promise<string>;
  stderr: Promise<string>;
  startedAt: number;
}

const monitors: Monitor[] = [];
let tmp = '';

function startMonitor(name: string, args: string[], opts: { grace?: number } = {}): Monitor {
  const logFile = join(tmp, `${name}.jsonl`);
  const pidFile = join(tmp, `${name}.pid`);
  const proc = Bun.spawn(
    [PIDWARDEN_BIN, 'monitor', '--interval', String(INTERVAL), '--heartbeat', '1', '--max-procs', String(MAX_PROCS), '--grace', String(opts.grace ?? 1),
      '--log-file', logFile, '--pid-file', pidFile, ...args],
    { cwd: REPO_ROOT, env: pidwardenEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  const m: Monitor = {
    name,
    proc,
    pid: proc.pid,
    logFile,
    pidFile,
    stdout: new Response(proc.stdout).text(),
    stderr: new Response(proc.stderr).text(),
    startedAt: Date.now(),
  };
  monitors.push(m);
  return m;
}

/** The monitor's log lines, across a rotation (`<log>.1` first). */
function events(m: Monitor): LogLine[] {
  return [...readLog(`${m.logFile}.1`), ...readLog(m.logFile)];
}

const alive = (m: Monitor) => m.proc.exitCode === null && m.proc.signalCode === null;

async function waitEvent(m: Monitor, pred: (e: LogLine) => boolean, what: string, timeoutMs = 15_000): Promise<LogLine> {
  return waitFor(() => {
    if (!alive(m)) throw new Error(`monitor ${m.name} exited (${m.proc.exitCode ?? m.proc.signalCode}); see .tmp/test-reports/monitor/${m.name}.stderr`);
    return events(m).find(pred) ?? null;
  }, timeoutMs, 50, `${m.name}: ${what}`);
}

/** SIGTERM (or SIGINT) and wait: exit code, milliseconds until it exited (or null when it took more than `limitMs`). */
async function terminate(m: Monitor, limitMs = 2_000, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<{ code: number | null; ms: number | null }> {
  const t0 = performance.now();
  m.proc.kill(signal);
  const r = await Promise.race([m.proc.exited.then((c) => ({ code: c, ms: performance.now() - t0 })), Bun.sleep(limitMs).then(() => null)]);
  if (r) return r;
  m.proc.kill('SIGKILL');
  await m.proc.exited;
  return { code: null, ms: null };
}

const ctl = engineCtl;

/** Live (non-zombie) processes of a container, as the kernel sees them. */
const liveProcs = (w: Workload): HostProc[] => hostProcsOfContainer(w).filter((p) => p.state !== 'Z');

const forContainer = (w: Workload) => (e: LogLine) => e.containerId === w.id;

/** Distinct in-container PIDs of `npm exec` processes the monitor signalled in a container. */
function killedNpm(m: Monitor, w: Workload): Set<number> {
  const s = new Set<number>();
  for (const e of events(m)) {
    if (e.event !== 'kill' || e.containerId !== w.id || e.dryRun) continue;
    (e.commands ?? []).forEach((c, i) => {
      if (c.startsWith('npm exec ')) s.add(e.pids![i]!);
    });
    // one kill line per tree level: an npm that exited once its sh was gone is listed as gone
    ((e.goneCommands as string[] | undefined) ?? []).forEach((c, i) => {
      if (c.startsWith('npm exec ')) s.add((e.gonePids as number[])[i]!);
    });
  }
  return s;
}

/**
 * A 6-tree storm is over: the app says it started all 6 trees (its log), each of them was either
 * killed by the monitor or is still a live chain, the killed ones are gone and at most --max-procs
 * processes live, whenever the monitor first caught it (dedupe keeps the newest; `oldest` may stop
 * earlier, as soon as the count is healthy), and the monitor's last word on it is a healthy
 * `result` (the kill lines come before the ladder ends). The trees are the app's own word: a
 * process the monitor killed with npm's title is not always a tree (npm's child between its fork
 * and its exec of `sh` carries that title too). Throws the current state otherwise (waitFor
 * reports it on timeout).
 */
function stormOver(m: Monitor, w: Workload): true {
  const started = startedTreePids(w);
  const procs = liveProcs(w);
  const killed = killedNpm(m, w);
  const chains = liveChains(procs);
  const liveRoots = new Set(chains.map((c) => c.npm.pid));
  const unaccounted = started.filter((pid) => !killed.has(pid) && !liveRoots.has(pid));
  const killedAlive = procs.filter((p) => killed.has(p.pid) && isNpmProc(p)).length;
  const mineEv = events(m).filter(forContainer(w));
  const last = mineEv[mineEv.length - 1];
  const resultLast = last?.event === 'result' && last.healthy === true;
  if (started.length === 6 && unaccounted.length === 0 && killedAlive === 0 && procs.length <= MAX_PROCS && resultLast) return true;
  const mine = mineEv.map((e) => `${e.event}${e.step ? `:${e.step}` : ''}`);
  throw new Error(
    `trees started ${started.length} (neither killed nor alive: ${unaccounted.join(',') || 'none'}), killed npm ${killed.size} (${killedAlive} still alive), live processes ${procs.length}, chains ${chains.length}; log: ${mine.join(' ')}`,
  );
}

const isNpmProc = (p: HostProc) => p.comm.startsWith('npm ');

/** RSS of m1 over its life, sampled from /proc (kB). */
const rss: Array<{ t: number; kb: number }> = [];
let rssTimer: ReturnType<typeof setInterval> | null = null;
function sampleRss(m: Monitor) {
  try {
    const line = readFileSync(`/proc/${m.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    if (line) rss.push({ t: (Date.now() - m.startedAt) / 1000, kb: Number(line.split(/\s+/)[1]) });
  } catch {
    /* exited */
  }
}

describeEngine('pidwarden monitor', () => {
  let m1: Monitor;
  let storm: Workload;
  let unlabelled: Workload;
  let unlabelledNpm: HostProc[];

  beforeAll(() => {
    tmp = mkdtempSync('/tmp/pwmon-');
  });

  afterAll(async () => {
    if (rssTimer) clearInterval(rssTimer);
    // never leave the shared engine down, whatever happened above
    if (ctl('status').code !== 0) console.error(`[monitor] engine was down after the tests; restarting: ${ctl('start-daemon').out}`);
    for (const m of monitors) {
      if (alive(m)) {
        m.proc.kill('SIGKILL');
        await m.proc.exited;
      }
    }
    // keep the logs for a look after the run
    const reports = join(REPO_ROOT, '.tmp', 'test-reports', 'monitor');
    mkdirSync(reports, { recursive: true });
    for (const m of monitors) {
      for (const f of [`${m.logFile}.1`, m.logFile]) if (existsSync(f)) copyFileSync(f, join(reports, basename(f)));
      writeFileSync(join(reports, `${m.name}.stderr`), await m.stderr);
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('m1 starts in the background: start line, pid file with its PID, nothing on stdout', async () => {
    m1 = startMonitor('m1', ['--label', label('m1')]);
    rssTimer = setInterval(() => sampleRss(m1), 250);
    const start = await waitEvent(m1, (e) => e.event === 'start', 'start line');
    expect(start.level).toBe('info');
    expect(start.pid).toBe(m1.pid);
    expect(start.labels).toEqual([label('m1')]);
    expect(readFileSync(m1.pidFile, 'utf8').trim()).toBe(String(m1.pid));
    await waitEvent(m1, (e) => e.event === 'heartbeat', 'first heartbeat');
  });

  test('a storm in a labelled container created after the start is brought under the limit; an unlabelled storm is left alone', async () => {
    unlabelled = await startWorkload({ image: 'busybox', name: 'unlabelled', reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    storm = await startWorkload({ image: 'busybox', name: 'storm', labels: labels('m1'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    const created = Date.parse(dockerOk('inspect', '-f', '{{.Created}}', storm.id));
    const startLine = events(m1).find((e) => e.event === 'start')!;
    expect(created).toBeGreaterThan(Date.parse(startLine.time));

    unlabelledNpm = liveChains(await waitForChains(unlabelled, 6)).map((c) => c.npm);

    await waitFor(() => stormOver(m1, storm), 20_000, 100, 'the storm container back under the limit');
    const mine = events(m1).filter(forContainer(storm));
    const firstStep = mine.find((e) => e.event === 'step')!;
    const results = mine.filter((e) => e.event === 'result');
    expect(results.length).toBeGreaterThan(0);
    expect(results[results.length - 1]!.healthy).toBe(true);
    expect(results.some((r) => (r.before?.processes ?? 0) > MAX_PROCS)).toBe(true);
    expect(firstStep.step).toBe('dedupe');
    for (const e of mine) expect(e.container).toBe(storm.name);
    const reaction = (Date.parse(firstStep.time) - created) / 1000;
    const done = (Date.parse(results[results.length - 1]!.time) - created) / 1000;
    console.log(`[monitor] storm: first step ${reaction.toFixed(2)} s after creation, healthy result at ${done.toFixed(2)} s (interval ${INTERVAL} s)`);
    // trees start every 0.05 s and take a moment to build; "a few intervals" after that (loose:
    // the engine's Created is stamped before the app starts, and CI shares 2 cores)
    expect(reaction).toBeLessThan(10 + 5 * INTERVAL);

    // still healthy two heartbeats (>= 6 cycles) later, and the unlabelled storm untouched
    const hb = events(m1).filter((e) => e.event === 'heartbeat').length;
    await waitFor(() => events(m1).filter((e) => e.event === 'heartbeat').length >= hb + 2, 10_000, 100, 'two more heartbeats');
    expect(liveProcs(storm).length).toBeLessThanOrEqual(MAX_PROCS);
    const now = liveProcs(unlabelled);
    for (const p of unlabelledNpm) {
      const q = now.find((x) => x.hostPid === p.hostPid);
      expect(q?.startTicks).toBe(p.startTicks);
    }
    expect(liveChains(now)).toHaveLength(6);
    expect(events(m1).some((e) => e.containerId === unlabelled.id || e.container === unlabelled.name)).toBe(false);
  });

  test('the engine stopped and started under the running monitor: survives, engine-down once, engine-up, acts again', async () => {
    const initBefore = initPidOf(storm);
    const t0 = Date.now();
    const stop = ctl('stop-daemon');
    expect(stop.code).toBe(0);
    let down: LogLine;
    try {
      expect(ctl('status').code).not.toBe(0);
      down = await waitEvent(m1, (e) => e.event === 'engine-down', 'engine-down');
      // the loop goes on while the engine is away: a heartbeat that says so
      await waitEvent(m1, (e) => e.event === 'heartbeat' && e.engine === 'down', 'heartbeat with engine down');
      expect(alive(m1)).toBe(true);
    } finally {
      const start = ctl('start-daemon');
      expect(start.code).toBe(0);
    }
    expect(['warn', 'error']).toContain(down.level);
    expect(Date.parse(down.time)).toBeGreaterThanOrEqual(t0 - 1000);
    const up = await waitEvent(m1, (e) => e.event === 'engine-up', 'engine-up', 30_000);
    expect(up.level).toBe('info');
    const lines = events(m1);
    expect(lines.filter((e) => e.event === 'engine-down')).toHaveLength(1);
    // nothing else complained in between: one line when it went, one when it came back
    const downAt = lines.indexOf(lines.find((e) => e.event === 'engine-down')!);
    const upAt = lines.indexOf(lines.find((e) => e.event === 'engine-up')!);
    expect(lines.slice(downAt + 1, upAt).filter((e) => e.level !== 'info')).toEqual([]);
    console.log(`[monitor] engine down for ${((Date.parse(up.time) - Date.parse(down.time)) / 1000).toFixed(1)} s; reason logged: ${down.reason}`);

    // live-restore: the containers kept running through the outage
    expect(initPidOf(storm)).toBe(initBefore);
    // acts again: a new storm after the restart is cleaned like the first one
    const again = await startWorkload({ image: 'busybox', name: 'after-restart', labels: labels('m1'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    await waitFor(() => stormOver(m1, again), 20_000, 100, 'post-restart storm back under the limit');
    expect(events(m1).filter(forContainer(again)).some((e) => e.event === 'result' && e.healthy === true)).toBe(true);
    expect(alive(m1)).toBe(true);
  });

  test('per-container state is dropped when the containers go (heartbeat count)', async () => {
    const hb = await waitEvent(m1, (e) => e.event === 'heartbeat' && e.engine === 'up' && (e.containers ?? 0) >= 2, 'heartbeat watching 2 containers');
    expect(hb.containers).toBe(2);
    const ids = dockerOk('ps', '-q', '--filter', `label=${label('m1')}`).split(/\s+/).filter(Boolean);
    expect(ids).toHaveLength(2);
    dockerOk('rm', '-f', ...ids);
    const n = events(m1).length;
    await waitFor(() => events(m1).slice(n).some((e) => e.event === 'heartbeat' && e.containers === 0), 10_000, 100, 'heartbeat with 0 containers');
  });

  test('SIGHUP after the log file was moved: a new file with new lines, the old one complete', async () => {
    const moved = `${m1.logFile}.1`;
    renameSync(m1.logFile, moved);
    // lines written between the move and the SIGHUP still go to the moved file (same fd)
    m1.proc.kill('SIGHUP');
    const fresh = await waitFor(() => {
      const l = readLog(m1.logFile);
      return l.filter((e) => e.event === 'heartbeat').length >= 2 ? l : null;
    }, 10_000, 100, 'new log file with two heartbeats');
    expect(alive(m1)).toBe(true);
    const old = readLog(moved);
    expect(old[0]!.event).toBe('start');
    expect(Date.parse(fresh[0]!.time)).toBeGreaterThanOrEqual(Date.parse(old[old.length - 1]!.time));
    // nothing after the reopen goes to the moved file
    const oldCount = old.length;
    await waitFor(() => readLog(m1.logFile).filter((e) => e.event === 'heartbeat').length >= 3, 10_000, 100, 'third heartbeat');
    expect(readLog(moved)).toHaveLength(oldCount);
  });

  test('a second monitor on the same pid file is refused: exit 2, one clear stderr line', async () => {
    const r = await runPidwarden(
      ['monitor', '--label', label('m1'), '--interval', String(INTERVAL), '--pid-file', m1.pidFile, '--log-file', join(tmp, 'second.jsonl')],
      { timeoutMs: 15_000 },
    );
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(String(m1.pid));
    expect(lines[0]).toContain(m1.pidFile);
    console.log(`[monitor] second instance: ${lines[0]}`);
    expect(r.stdout).toBe('');
    expect(readFileSync(m1.pidFile, 'utf8').trim()).toBe(String(m1.pid));
    expect(alive(m1)).toBe(true);
  });

  test('a pid file naming a live process that is not a monitor (PID reused) is stale: replaced; SIGINT stops like SIGTERM', async () => {
    const other = Bun.spawn(['sleep', '60'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    try {
      const pidFile = join(tmp, 'm4.pid');
      writeFileSync(pidFile, `${other.pid}\n`);
      const m4 = startMonitor('m4', ['--label', label('m4')]);
      await waitEvent(m4, (e) => e.event === 'start', 'start line');
      expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(m4.pid));
      // SIGINT (Ctrl-C) stops it like SIGTERM
      expect((await terminate(m4, 2_000, 'SIGINT')).code).toBe(0);
      expect(readLog(m4.logFile).at(-1)).toMatchObject({ event: 'stop', reason: 'SIGINT' });
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a --log-file that cannot be opened: exit 2, one line, no pid file left behind', async () => {
    const pidFile = join(tmp, 'badlog.pid');
    const r = await runPidwarden(['monitor', '--label', label('none'), '--pid-file', pidFile, '--log-file', join(tmp, 'no-such-dir', 'x.jsonl')], { timeoutMs: 15_000 });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--log-file');
    expect(existsSync(pidFile)).toBe(false);
  });

  test('started while the engine is away, with a --container that does not exist: waits, then exit 2 with one line once the engine answers', async () => {
    // the engine's socket appears only later: a symlink to the private engine's, made once the monitor said engine-down
    const sock = join(tmp, 'late-engine.sock');
    const m = startMonitor('late', ['--docker-host', `unix://${sock}`, '--container', `${RUN_ID}-no-such`]);
    await waitEvent(m, (e) => e.event === 'engine-down', 'engine-down');
    expect(alive(m)).toBe(true);
    symlinkSync(engine.host!.slice('unix://'.length), sock);
    const code = await Promise.race([m.proc.exited, Bun.sleep(30_000).then(() => 'still running')]);
    expect(code).toBe(2);
    const lines = (await m.stderr).split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${RUN_ID}-no-such`);
  });

  test('--dry-run monitor, started on a stale pid file: replaces it, logs would-be kills, signals nothing', async () => {
    // a PID that certainly belonged to a process that is gone now
    const dead = Bun.spawnSync(['true']).pid;
    expect(existsSync(`/proc/${dead}`)).toBe(false);
    const pidFile = join(tmp, 'm2.pid');
    writeFileSync(pidFile, `${dead}\n`);
    const m2 = startMonitor('m2', ['--label', label('m2'), '--dry-run']);
    expect(m2.pidFile).toBe(pidFile);
    await waitEvent(m2, (e) => e.event === 'start' && e.dryRun === true, 'start line');
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(m2.pid));

    const d = await startWorkload({ image: 'busybox', name: 'dry', labels: labels('m2'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    const chains = liveChains(await waitForChains(d, 6));
    // The dry-run monitor still probes: its `ps` exec lives in the container for a moment (parent
    // outside the namespace: ppid 0). Caught in one snapshot and not the other, it is no change.
    const workload = (w: Workload) => liveProcs(w).filter((p) => p.pid === 1 || p.ppid !== 0);
    const before = workload(d);
    const n = events(m2).length;
    // two full dry-run ladders after the storm is complete
    await waitFor(() => events(m2).slice(n).filter((e) => e.event === 'result' && e.containerId === d.id).length >= 2, 15_000, 100, 'two dry-run results');
    const mine = events(m2).filter(forContainer(d));
    const kills = mine.filter((e) => e.event === 'kill');
    expect(kills.length).toBeGreaterThan(0);
    for (const e of mine) expect(e.dryRun).toBe(true);
    // the would-be victims include the duplicates' npm processes
    expect(kills.flatMap((k) => k.pids ?? [])).toEqual(expect.arrayContaining(chains.slice(0, 5).map((c) => c.npm.pid)));
    const after = workload(d);
    expect(after.map((p) => [p.hostPid, p.startTicks])).toEqual(before.map((p) => [p.hostPid, p.startTicks]));
    expect(liveChains(after)).toHaveLength(6);

    const t = await terminate(m2);
    expect(t.code).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  test('--restart-limit 1/1h: a container kills cannot fix is restarted once, then restart-suppressed (warn)', async () => {
    const m3 = startMonitor('m3', ['--label', label('m3'), '--restart-limit', '1/1h']);
    await waitEvent(m3, (e) => e.event === 'start', 'start line');
    // 8 npm trees that come back 0.1 s after a kill, under a PID 1 that never reaps: each killed
    // `npm exec` stays a zombie of PID 1, so after steps 1-3 its zombies (and the trees back) keep
    // it over 8 processes, and they are why it is over (without them: PID 1 alone). Every ladder
    // ends at the restart step, with evidence (src/decide/evidence.ts).
    const r = await startWorkload({
      image: 'busybox',
      name: 'respawn',
      labels: labels('m3'),
      reap: false,
      respawn: true,
      respawnDelay: 0.1,
      interval: 0.05,
      trees: [{ npx: MAGIC, copies: 8 }],
    });
    const init0 = r.initPid;
    const restart = await waitEvent(m3, (e) => e.event === 'restart' && e.containerId === r.id, 'the restart', 30_000);
    expect(restart.level).toBe('info');
    const init1 = await waitFor(() => {
      const p = initPidOf(r);
      return p !== init0 ? p : null;
    }, 15_000, 100, 'a new init PID after the restart');
    await waitFor(
      () => events(m3).filter((e) => e.event === 'restart-suppressed' && e.containerId === r.id).length >= 2,
      30_000,
      100,
      'two restart-suppressed lines',
    );
    const mine = events(m3).filter(forContainer(r));
    expect(mine.filter((e) => e.event === 'restart')).toHaveLength(1);
    const suppressed = mine.filter((e) => e.event === 'restart-suppressed');
    for (const s of suppressed) {
      expect(s.level).toBe('warn');
      expect(s.step).toBe('restart');
      expect(Date.parse(s.time)).toBeGreaterThan(Date.parse(restart.time));
    }
    // kernel truth: the container was restarted exactly once
    expect(initPidOf(r)).toBe(init1);
    // and the monitor kept using steps 1-3 after the suppression
    const firstSuppressed = mine.indexOf(suppressed[0]!);
    expect(mine.slice(firstSuppressed).some((e) => e.event === 'kill')).toBe(true);

    // SIGTERM while it is still fighting this container: stops after the current action
    const t = await terminate(m3);
    console.log(`[monitor] m3 (mid-ladder) exited ${t.code} in ${t.ms?.toFixed(0)} ms after SIGTERM`);
    expect(t.code).toBe(0);
    expect(events(m3).at(-1)!.event).toBe('stop');
    expect(existsSync(m3.pidFile)).toBe(false);
  });

  test('zombies its main process never reaps, no pids limit: the monitor restarts it as cleanup would, though cgroup.procs lists its PID 1 alone', async () => {
    // 8 trees under a PID 1 that never reaps; each tree's node SIGKILLed from the host: its sh reaps
    // it and exits, its npm reaps the sh and exits, and stays a zombie of PID 1: 8 zombies and PID 1,
    // over --max-procs 8. cgroup.procs leaves zombies out, and without a pids limit pids.current
    // has nothing to be compared with: the cheap figures read 1 process.
    const z = await startWorkload({ image: 'busybox', name: 'zombies', labels: labels('mz'), reap: false, interval: 0.05, trees: [{ npx: MAGIC, copies: 8 }] });
    const procs = await waitForChains(z, 8);
    for (const c of liveChains(procs)) process.kill(c.node!.hostPid, 'SIGKILL');
    const zombies = await waitFor(() => {
      const now = hostProcsOfContainer(z);
      const z8 = now.filter((p) => p.state === 'Z' && p.ppid === 1);
      return now.length === 9 && z8.length === 8 ? z8 : null;
    }, 15_000, 50, 'PID 1 and its 8 zombie npm processes');
    const init0 = z.initPid;
    const mz = startMonitor('mz', ['--label', label('mz')]);
    const restart = await waitEvent(mz, (e) => e.event === 'restart' && e.containerId === z.id, 'the restart', 30_000);
    expect(restart.level).toBe('info');
    // kernel truth: a new init, and the zombies went with the old one. Not "no zombie at all": the
    // new run starts its 8 trees again, the monitor goes on watching it, and its kills there leave
    // new zombies of the new PID 1 (98 processes in one run of the series beside another suite)
    await waitFor(() => initPidOf(z) !== init0 && initPidOf(z) > 0, 15_000, 100, 'a new init PID');
    const stillThere = (p: HostProc) => readHostProc(p.hostPid)?.startTicks === p.startTicks;
    expect(zombies.filter(stillThere).map((p) => p.hostPid)).toEqual([]);
    expect((await terminate(mz)).code).toBe(0);
  });

  test('a busy container whose own 8 workers keep it over, beside respawning npm trees: kills, never a restart (restart-skipped, warn)', async () => {
    const m6 = startMonitor('m6', ['--label', label('m6')]);
    await waitEvent(m6, (e) => e.event === 'start', 'start line');
    // PID 1 and 8 workers --match never touches are 9 processes, over --max-procs 8 whatever the
    // ladder kills: the npm trees are not why it is over, and a restart would bring the workers back
    const w = await startWorkload({
      image: 'busybox',
      name: 'busy',
      labels: labels('m6'),
      reap: true,
      respawn: true,
      respawnDelay: 0.1,
      interval: 0.05,
      trees: [{ npx: MAGIC, copies: 3 }],
      procs: [{ argv: ['node', '/app/dist/worker.js'], copies: 8 }],
    });
    const skipped = await waitEvent(m6, (e) => e.event === 'restart-skipped' && e.containerId === w.id, 'restart-skipped', 30_000);
    expect(skipped.level).toBe('warn');
    // at the start (the workers may not all be up yet) or after the kill steps: either way no ground
    expect(String(skipped.reason)).toContain('no evidence that a restart would help');
    const mine = events(m6).filter(forContainer(w));
    expect(mine.some((e) => e.event === 'kill')).toBe(true);
    expect(mine.filter((e) => e.event === 'restart')).toEqual([]);
    // kernel truth: the same init, never restarted
    expect(initPidOf(w)).toBe(w.initPid);
    expect((await terminate(m6)).code).toBe(0);
  });

  test('a container removed in the middle of its ladder: logged, the loop goes on and acts on the next one', async () => {
    // --grace 10 and trees that ignore SIGTERM: the ladder sits in its grace wait until the removal
    const m5 = startMonitor('m5', ['--label', label('m5')], { grace: 10 });
    await waitEvent(m5, (e) => e.event === 'start', 'start line');
    const g = await startWorkload({ image: 'busybox', name: 'gone', labels: labels('m5'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6, noterm: true }] });
    await waitEvent(m5, (e) => e.event === 'kill' && e.containerId === g.id && e.signal === 'SIGTERM', 'SIGTERM to the noterm trees');
    const removedAt = Date.now();
    dockerOk('rm', '-f', g.id);
    // the ladder for the removed container ends (an error or a result), well before the grace is over
    const end = await waitEvent(m5, (e) => e.containerId === g.id && (e.event === 'error' || e.event === 'result'), 'the end of the ladder', 15_000);
    const endMs = Date.parse(end.time) - removedAt;
    console.log(`[monitor] removed mid-ladder: ${end.event} (${end.level}) ${endMs} ms after the removal: ${end.reason ?? JSON.stringify(end.after)}`);
    const n = events(m5).length;
    await waitFor(() => events(m5).slice(n).some((e) => e.event === 'heartbeat' && e.containers === 0), 15_000, 100, 'a heartbeat with 0 containers');
    // and it still acts
    const next = await startWorkload({ image: 'busybox', name: 'next', labels: labels('m5'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    await waitFor(() => stormOver(m5, next), 20_000, 100, 'the next storm back under the limit');
    expect(events(m5).filter((e) => e.event === 'engine-down')).toEqual([]);
    const t = await terminate(m5);
    expect(t.code).toBe(0);
  });

  test('containers coming and going until m1 has run >= 22 s: each storm cleaned, state back to 0', async () => {
    // the measurement window for the RSS below: storms in new containers, cleaned, removed
    let n = 0;
    while (Date.now() - m1.startedAt < 22_000 || n < 3) {
      const w = await startWorkload({ image: 'busybox', name: `churn${n}`, labels: labels('m1'), reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
      await waitFor(() => stormOver(m1, w), 20_000, 100, `churn container ${n} back under the limit`);
      dockerOk('rm', '-f', w.id);
      n++;
    }
    const k = events(m1).length;
    const hb = await waitFor(() => events(m1).slice(k).find((e) => e.event === 'heartbeat' && e.containers === 0), 10_000, 100, 'heartbeat with 0 containers');
    console.log(`[monitor] churn: ${n} storm containers created, cleaned and removed; then heartbeat containers=${hb.containers}`);
  });

  test('SIGTERM: exit 0 promptly (no action in flight: well under 10 s), a stop line, the pid file removed; RSS stayed flat', async () => {
    sampleRss(m1);
    if (rssTimer) clearInterval(rssTimer);
    rssTimer = null;
    const t = await terminate(m1, 10_000);
    console.log(`[monitor] m1 exited ${t.code} in ${t.ms?.toFixed(0)} ms after SIGTERM`);
    expect(t.code).toBe(0);
    expect(t.ms).not.toBeNull();
    expect(t.ms!).toBeLessThan(10_000);
    const last = readLog(m1.logFile).at(-1)!;
    expect(last.event).toBe('stop');
    expect(last.reason).toBe('SIGTERM');
    expect(existsSync(m1.pidFile)).toBe(false);
    expect(await m1.stdout).toBe('');
    console.log(`[monitor] m1 stderr: ${JSON.stringify(await m1.stderr)}`);

    // every line of every log parsed (readLog throws otherwise); heartbeats carry the RSS too
    const hbs = events(m1).filter((e) => e.event === 'heartbeat');
    const span = rss.length > 0 ? rss[rss.length - 1]!.t - rss[0]!.t : 0;
    const after5 = rss.filter((s) => s.t >= 5);
    const first = after5[0]?.kb ?? rss[0]?.kb ?? 0;
    const lastKb = rss[rss.length - 1]?.kb ?? 0;
    const maxKb = Math.max(...rss.map((s) => s.kb));
    const marks = rss.filter((_, i) => i % 20 === 0).map((s) => `${s.t.toFixed(0)}s:${(s.kb / 1024).toFixed(1)}`);
    console.log(
      `[monitor] m1 RSS over ${span.toFixed(0)} s (${rss.length} samples, ${hbs.length} heartbeats): ` +
        `at 5 s ${(first / 1024).toFixed(1)} MiB, last ${(lastKb / 1024).toFixed(1)} MiB, max ${(maxKb / 1024).toFixed(1)} MiB; MiB by time: ${marks.join(' ')}`,
    );
    expect(span).toBeGreaterThanOrEqual(20);
    // loose: flat means no growth with time, not a number of bytes
    expect(lastKb - first).toBeLessThan(64 * 1024);
  });
});
