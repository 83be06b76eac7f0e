/**
 * `pidwarden reap` and `monitor --reap` against the REAL private engine, the three container floods
 * of the README's "Container floods", checked against the engine's own state (docker inspect) and
 * the host's /proc:
 *   - a per-call wrapper (`docker run --rm -i` per call) killed with its docker CLI: its container
 *     leaks; reap stops it as an orphan (the PID in its session label is dead) and the engine removes
 *     it (--rm); a live wrapper's container goes by its start label and --max-age;
 *   - mcpmon-labelled containers whose owner PID is dead, alive, or missing (with and without
 *     --orphan-unlabelled); an owner label naming a PID that a process started after the container
 *     now holds (PID reuse) is no owner;
 *   - idle and busy servers under `monitor --reap` and from cron-like one-shot runs (samples in the
 *     state file); a paused container is measured afresh once unpaused;
 *   - a pile of 12 containers of one image with --max-per-group 3: the 9 oldest stop;
 *   - a compose-managed container (stopped, never removed) and one labelled pidwarden.reap=false
 *     (never stopped) under --remove;
 *   - audit's flood lines; a bare `reap` exits 2 naming what it would stop; --dry-run touches nothing;
 *   - no orphan by PID where the PID cannot be checked: a remote engine, an empty --proc-root, and
 *     the host's /proc read from a PID namespace of pidwarden's own (unshare);
 *   - pidwarden in a container of its own (examples/build-image.sh's image) never stops that container;
 *   - a bystander with a dead owner, not selected, is never touched.
 * Run: npm test -- test/integration/reap.test.ts
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngine, docker, dockerOk, engine, IMAGES, PIDWARDEN_BIN, REPO_ROOT, RUN_ID, RUN_LABEL, runPidwarden, startWorkload, waitFor, parseJsonl } from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(90_000);

const tmp = mkdtempSync(join(tmpdir(), 'pidwarden-reap-'));
const hostProcs: Subprocess[] = [];
afterAll(() => {
  for (const p of hostProcs) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      p.kill('SIGKILL');
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

const dockerEnv = (): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DOCKER_CONTEXT') env[k] = v;
  return { ...env, DOCKER_HOST: engine.host ?? '' };
};

/** A small container of this run: `sleep` as PID 1 (ignores SIGTERM: --stop-timeout 1 keeps stops short). */
function runContainer(name: string, labels: Record<string, string>, extra: string[] = [], cmd: string[] = ['sleep', '1000']): string {
  const l = Object.entries({ [RUN_LABEL]: RUN_ID, ...labels }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  return dockerOk('run', '-d', '--network', 'none', '--stop-timeout', '1', '--name', `${RUN_ID}-${name}`, ...l, ...extra, '--entrypoint', cmd[0]!, IMAGES.busybox, ...cmd.slice(1));
}

interface EngineState {
  exists: boolean;
  running: boolean;
  startedAt: string;
}

function stateOf(id: string): EngineState {
  const r = docker('inspect', '-f', '{{.State.Running}} {{.State.StartedAt}}', id);
  if (r.code !== 0) return { exists: false, running: false, startedAt: '' };
  const [running, startedAt] = r.stdout.trim().split(' ');
  return { exists: true, running: running === 'true', startedAt: startedAt ?? '' };
}

/** A host process that lives until the end of this file (or until killed). */
function startOwner(): Subprocess {
  const p = Bun.spawn(['setsid', 'sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  hostProcs.push(p);
  return p;
}

/** A real process, started and killed: its PID is not alive now. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(['sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  p.kill('SIGKILL');
  await p.exited;
  return p.pid;
}

/** ms since the epoch when this host process started: btime + starttime ticks (USER_HZ 100). */
function hostStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    return btime * 1000 + ticks * 10;
  } catch {
    return null;
  }
}

/**
 * The kernel's word that `pid` cannot be the owner of a container created at createdMs: no such
 * process, or one that started after it (the PID was reused meanwhile).
 */
function notAliveOwner(pid: number, createdMs: number): boolean {
  const start = hostStartMs(pid);
  return start === null || start > createdMs;
}

const createdMs = (id: string) => Date.parse(dockerOk('inspect', '-f', '{{.Created}}', id));

interface ReapLine {
  event: string;
  level: string;
  container: string;
  containerId: string;
  rule?: string;
  reason?: string;
  action?: string;
  result?: string;
  ownerPid?: number;
  ownerAlive?: boolean;
  ageSeconds?: number;
  cpuPercent?: number;
  groupSize?: number;
  stopTimeout?: number;
  stopTimeoutFrom?: string;
  dryRun?: boolean;
  [k: string]: unknown;
}

const lines = (text: string): ReapLine[] => parseJsonl<ReapLine>(text);
const reapLines = (text: string) => lines(text).filter((l) => l.event === 'reap');

describeEngine('pidwarden reap', () => {
  // Not selected by any test below (no reaptest label), owner dead: must never be touched.
  let bystander = '';
  let bystanderBefore: EngineState;

  test('setup: a bystander with a dead owner', async () => {
    bystander = runContainer('bystander', { 'mcpmon.pid': String(await deadPid()) });
    bystanderBefore = stateOf(bystander);
    expect(bystanderBefore.running).toBe(true);
  });

  test('per-call wrapper: killed with its docker CLI, its --rm container leaks; reap stops it as an orphan and the engine removes it', async () => {
    // The wrapper of README's "Container floods", as its user wrote it: one `docker run --rm -i` per call, labelled with
    // the session ({PPID}-{PID}-{time}) and the start time.
    const wrapper = join(tmp, 'postgres-mcp-wrapper.sh');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        'now=$(date +%s)',
        `docker run --rm -i --network none --stop-timeout 1 --label ${RUN_LABEL}=${RUN_ID} --label reaptest=wrapper --label mcp-service=postgres \\`,
        '  --label "mcp-session=mcp-session-$PPID-$$-$now" --label "mcp-started=${MCP_STARTED:-$now}" \\',
        `  --entrypoint sleep ${IMAGES.busybox} 1000`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const start = (extraEnv: Record<string, string> = {}) => {
      const p = Bun.spawn(['setsid', wrapper], { env: { ...dockerEnv(), ...extraEnv }, stdin: 'pipe', stdout: 'ignore', stderr: 'ignore' });
      hostProcs.push(p);
      return p;
    };
    const containerOf = (pid: number) =>
      waitFor(() => dockerOk('ps', '--no-trunc', '--filter', 'label=reaptest=wrapper', '--filter', `label=mcp-session`, '--format', '{{.ID}} {{.Label "mcp-session"}}')
        .split('\n')
        .find((l) => l.includes(`-${pid}-`))
        ?.split(' ')[0], 30_000, 200, `the wrapper ${pid}'s container`);
    const sel = ['--label', 'mcp-service=postgres', '--label', `${RUN_LABEL}=${RUN_ID}`, '--owner-label', 'mcp-session=^mcp-session-\\d+-(\\d+)-'];

    // A session whose client killed the wrapper (and its docker CLI: the whole process group).
    const killed = start();
    const leaked = await containerOf(killed.pid);
    process.kill(-killed.pid, 'SIGKILL');
    await killed.exited;
    // A live session, whose container says it started two hours ago.
    const live = start({ MCP_STARTED: String(Math.floor(Date.now() / 1000) - 7200) });
    const aged = await containerOf(live.pid);
    expect(stateOf(leaked).running).toBe(true); // leaked: nobody stops it
    expect(notAliveOwner(killed.pid, createdMs(leaked))).toBe(true);

    // Without --max-age only the orphan goes; the live wrapper's container stays.
    const r = await runPidwarden(['reap', ...sel]);
    expect(r.code).toBe(0);
    const l = reapLines(r.stdout);
    expect(l.map((x) => [x.containerId, x.rule, x.result])).toEqual([[leaked, 'orphan', 'stopped']]);
    expect(l[0]).toMatchObject({ ownerPid: killed.pid, ownerAlive: false, ownerLabel: 'mcp-session', autoRemove: true, action: 'stop', dryRun: false });
    await waitFor(() => !stateOf(leaked).exists, 20_000, 100, 'the --rm container removed by the engine');
    expect(stateOf(aged).running).toBe(true);

    // Too old by its start label (the container itself started a second ago).
    const r2 = await runPidwarden(['reap', ...sel, '--max-age', '1h', '--started-label', 'mcp-started']);
    expect(r2.code).toBe(0);
    const l2 = reapLines(r2.stdout);
    expect(l2.map((x) => [x.containerId, x.rule, x.result])).toEqual([[aged, 'age', 'stopped']]);
    expect(l2[0]!.ageSeconds).toBeGreaterThanOrEqual(7200);
    expect(l2[0]!.startedFrom).toBe('label mcp-started');
    await waitFor(() => !stateOf(aged).exists, 20_000, 100, 'the aged --rm container removed by the engine');
    expect(r2.stderr).toContain('reap: stopped 1 of 1 checked container');
  });

  test('mcpmon: owner dead -> stopped; alive -> kept; no PID label -> kept, or stopped with --orphan-unlabelled', async () => {
    const owner = startOwner();
    const labels = (pid?: number) => ({
      reaptest: 'mcpmon',
      'mcpmon.managed': 'true',
      'mcpmon.session': crypto.randomUUID(),
      'mcpmon.started': String(Date.now()),
      ...(pid === undefined ? {} : { 'mcpmon.pid': String(pid) }),
    });
    const dead = runContainer('mcpmon-dead', labels(await deadPid()));
    const alive = runContainer('mcpmon-alive', labels(owner.pid));
    const missing = runContainer('mcpmon-missing', labels());
    expect(notAliveOwner(Number(dockerOk('inspect', '-f', '{{index .Config.Labels "mcpmon.pid"}}', dead)), createdMs(dead))).toBe(true);

    // A bare reap selects nothing (no opt-in label): exit 2, naming what it would stop.
    const bare = await runPidwarden(['reap']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`${RUN_ID}-mcpmon-dead (orphan)`);
    expect(bare.stderr.trim().split('\n')).toHaveLength(1);

    const sel = ['--label', 'reaptest=mcpmon', '--label', 'mcpmon.managed=true'];
    const dry = await runPidwarden(['reap', ...sel, '--orphan-unlabelled', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(reapLines(dry.stdout).map((x) => [x.containerId, x.result]).sort()).toEqual([[dead, 'dry-run'], [missing, 'dry-run']].sort());
    for (const id of [dead, alive, missing]) expect(stateOf(id).running).toBe(true);

    const r = await runPidwarden(['reap', ...sel]);
    expect(r.code).toBe(0);
    expect(reapLines(r.stdout).map((x) => [x.containerId, x.rule, x.result, x.stopTimeout, x.stopTimeoutFrom])).toEqual([[dead, 'orphan', 'stopped', 1, 'container']]);
    expect(stateOf(dead)).toMatchObject({ exists: true, running: false }); // stopped, not removed without --remove
    expect(stateOf(alive).running).toBe(true);
    expect(stateOf(missing).running).toBe(true);

    const r2 = await runPidwarden(['reap', ...sel, '--orphan-unlabelled', '--remove']);
    expect(r2.code).toBe(0);
    expect(reapLines(r2.stdout).map((x) => [x.containerId, x.rule, x.result])).toEqual([[missing, 'orphan', 'removed']]);
    expect(stateOf(missing).exists).toBe(false);
    expect(stateOf(alive).running).toBe(true);
  });

  test('PID reuse: an owner label naming a PID now held by a process started after the container is an orphan', async () => {
    // Stage the reuse with the kernel's next-PID knob: the container names PID n, then a process
    // is made to get n. It must start more than OWNER_START_MARGIN_MS (2 s, src/decide/reap.ts)
    // after the container's creation to count as younger: /proc start times are only whole-second
    // exact. Other processes on the machine may take n first: retry.
    const id = runContainer('reused', { reaptest: 'reuse' });
    let holder: Subprocess | null = null;
    for (let attempt = 0; attempt < 10 && !holder; attempt++) {
      const n = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8')) + 200;
      if (existsSync(`/proc/${n}`)) continue;
      const named = runContainer(`reused-${attempt}`, { reaptest: 'reuse', 'mcpmon.pid': String(n) });
      const created = createdMs(named);
      await waitFor(() => Date.now() > created + 3500, 10_000, 50, 'the margin after the creation');
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(n - 1));
      const p = Bun.spawn(['setsid', 'sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      hostProcs.push(p);
      if (p.pid === n) holder = p;
      else docker('rm', '-f', named);
    }
    if (!holder) throw new Error('could not stage a reused PID in 10 attempts');
    const named = dockerOk('ps', '-q', '--no-trunc', '--filter', `label=mcpmon.pid=${holder.pid}`, '--filter', 'label=reaptest=reuse');
    expect(existsSync(`/proc/${holder.pid}`)).toBe(true); // alive...
    expect(hostStartMs(holder.pid)!).toBeGreaterThan(createdMs(named)); // ...but younger than the container

    const r = await runPidwarden(['reap', '--label', 'reaptest=reuse', '--dry-run']);
    expect(r.code).toBe(0);
    const l = reapLines(r.stdout);
    expect(l.map((x) => x.containerId)).toEqual([named]);
    expect(l[0]!.owners).toEqual([expect.objectContaining({ pid: holder.pid, alive: false, why: 'started after the container' })]);
    expect(stateOf(id).running).toBe(true);
  });

  test('idle and busy servers under monitor --reap: the idle one stops, the busy one stays', async () => {
    const idle = runContainer('router-idle', { reaptest: 'router' });
    // A server doing a little work all the time: ~3 % of a core (1000 shell additions every 0.2 s).
    const busy = runContainer('router-busy', { reaptest: 'router' }, [], ['sh', '-c', 'while :; do i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; sleep 0.2; done']);
    const stateFile = join(tmp, 'monitor-state', 'state.json');
    const logFile = join(tmp, 'monitor-reap.jsonl');
    const windowS = 3;
    const proc = Bun.spawn(
      [PIDWARDEN_BIN, 'monitor', '--reap', '--label', 'reaptest=router', '--idle-for', `${windowS}s`, '--interval', '0.5', '--heartbeat', '1', '--state-file', stateFile, '--log-file', logFile],
      { cwd: REPO_ROOT, env: dockerEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    hostProcs.push(proc);
    const logged = () => (existsSync(logFile) ? lines(readFileSync(logFile, 'utf8')) : []);
    try {
      await waitFor(() => !stateOf(idle).running, 60_000, 200, 'the idle server stopped');
      // The busy one must have been judged over a whole window, and again a whole window later.
      const idleStoppedAt = Date.now();
      const busySamples = () => {
        const doc = JSON.parse(readFileSync(stateFile, 'utf8')) as { usage?: Record<string, { samples: number[][] }> };
        return doc.usage?.[busy]?.samples ?? [];
      };
      await waitFor(
        () => {
          const s = busySamples();
          const first = s[0]?.[0] ?? Infinity;
          const last = s[s.length - 1]?.[0] ?? 0;
          return last - first >= windowS * 1000 && last >= idleStoppedAt + windowS * 1000;
        },
        60_000,
        200,
        'a window of samples of the busy server after the idle one stopped',
      );
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    expect(stateOf(busy).running).toBe(true);
    const reaps = logged().filter((l) => l.event === 'reap');
    expect(reaps.map((l) => [l.containerId, l.rule, l.result])).toEqual([[idle, 'idle', 'stopped']]);
    expect(reaps[0]!.cpuPercent!).toBeLessThan(0.5);
    expect(reaps[0]!.idleForSeconds as number).toBeGreaterThanOrEqual(windowS);
  });

  test("monitor --reap: a stop that takes its container's whole stop timeout does not hold up the cycles; a storm meanwhile is cleaned", async () => {
    // PID 1 `sleep` ignores SIGTERM: the engine's stop waits the container's 20 s out
    const slow = runContainer('slow-stop', { reaptest: 'slowreap' }, ['--stop-timeout', '20']);
    const logFile = join(tmp, 'monitor-slow-reap.jsonl');
    const proc = Bun.spawn(
      [PIDWARDEN_BIN, 'monitor', '--reap', '--label', 'reaptest=slowreap', '--max-age', '1s', '--max-procs', '5', '--interval', '0.5', '--heartbeat', '1', '--grace', '2', '--state-file', join(tmp, 'slow-reap-state', 'state.json'), '--log-file', logFile],
      { cwd: REPO_ROOT, env: dockerEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    hostProcs.push(proc);
    const logged = () => (existsSync(logFile) ? lines(readFileSync(logFile, 'utf8')) : []);
    try {
      // cycles go on while the stop is under way (before, the first cycle waited for it: 20 s)
      await waitFor(() => logged().some((l) => l.event === 'heartbeat' && (l.cycles as number) >= 3), 15_000, 100, 'a heartbeat after 3 cycles');
      expect(stateOf(slow).running).toBe(true);
      // a storm that starts now, exempt from reap, is cleaned by a ladder meanwhile
      const storm = await startWorkload({ image: 'busybox', name: 'slow-reap-storm', labels: { reaptest: 'slowreap', 'pidwarden.reap': 'false' }, trees: [{ npx: MAGIC, copies: 3 }], interval: 0.05 });
      await waitFor(() => logged().some((l) => l.event === 'kill' && l.containerId === storm.id), 15_000, 100, "the storm's kill line");
      expect(stateOf(slow).running).toBe(true);
      const stopped = await waitFor(() => logged().find((l) => l.event === 'reap' && l.containerId === slow), 60_000, 200, 'the slow stop done');
      expect(stopped).toMatchObject({ rule: 'age', result: 'stopped' });
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  });

  test('idle from one-shot runs (cron): samples in the state file; the first run measures, a later one stops', async () => {
    const idle = runContainer('cron-idle', { reaptest: 'cron' });
    const busy = runContainer('cron-busy', { reaptest: 'cron' }, [], ['sh', '-c', 'while :; do i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; sleep 0.2; done']);
    const args = ['reap', '--label', 'reaptest=cron', '--idle-for', '2s', '--state-file', join(tmp, 'cron-state', 'state.json')];
    const first = await runPidwarden(args);
    expect(first.code).toBe(0);
    expect(reapLines(first.stdout)).toEqual([]);
    const stopped = await waitFor(
      async () => {
        const r = await runPidwarden(args);
        expect(r.code).toBe(0);
        return reapLines(r.stdout).find((l) => l.containerId === idle);
      },
      60_000,
      300,
      'a reap run that stops the idle container',
    );
    expect(stopped).toMatchObject({ rule: 'idle', result: 'stopped' });
    expect(stateOf(idle).running).toBe(false);
    expect(stateOf(busy).running).toBe(true);
  });

  test('a pause is not idle time: unpaused, a container is measured afresh, and stopped only after a whole window of running idle', async () => {
    const paused = runContainer('cron-paused', { reaptest: 'paused' });
    const windowS = 3;
    const args = ['reap', '--label', 'reaptest=paused', '--idle-for', `${windowS}s`, '--state-file', join(tmp, 'paused-state', 'state.json')];
    const first = await runPidwarden(args);
    expect(reapLines(first.stdout)).toEqual([]);
    const measuredAt = Date.now();
    dockerOk('pause', paused);
    // a pass while it is paused (cron keeps running), then more than a window of frozen time
    expect(reapLines((await runPidwarden(args)).stdout)).toEqual([]);
    await waitFor(() => Date.now() >= measuredAt + (windowS + 1) * 1000, 10_000, 100, 'a window of paused time');
    dockerOk('unpause', paused);
    const unpausedAt = Date.now();
    // the first pass after the unpause: its samples before the pause are gone, so not idle yet
    const after = await runPidwarden(args);
    expect(after.code).toBe(0);
    expect(reapLines(after.stdout)).toEqual([]);
    expect(stateOf(paused).running).toBe(true);
    // a window of running idle later, the rule applies as ever
    const stopped = await waitFor(
      async () => reapLines((await runPidwarden(args)).stdout).find((l) => l.containerId === paused),
      60_000,
      300,
      'a reap run that stops the idle container',
    );
    expect(stopped).toMatchObject({ rule: 'idle', result: 'stopped' });
    expect(Date.now() - unpausedAt).toBeGreaterThanOrEqual(windowS * 1000);
  });

  test('a pile of 12 containers of one image, --max-per-group 3: audit shows it, reap stops the 9 oldest', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(runContainer(`pile-${String(i).padStart(2, '0')}`, { reaptest: 'pile' }));
    const started = ids.map((id) => Date.parse(stateOf(id).startedAt));
    expect([...started].sort((a, b) => a - b)).toEqual(started); // started in this order

    const audit = await runPidwarden(['audit', '--label', 'reaptest=pile', '--max-per-group', '3', '--proc-source', 'host']);
    expect(audit.stdout).toContain(`GROUP   image ${IMAGES.busybox}: 12 running > max-per-group 3`);
    expect(audit.stdout.split('\n').filter((l) => l.startsWith('  PILE'))).toHaveLength(9);
    const json = JSON.parse((await runPidwarden(['audit', '--json', '--label', 'reaptest=pile', '--max-per-group', '3', '--proc-source', 'host'])).stdout);
    expect(json.floods.groups).toEqual([{ group: `image ${IMAGES.busybox}`, size: 12, max: 3 }]);
    expect(json.floods.wouldStop.map((w: { containerId: string }) => w.containerId)).toEqual(ids.slice(0, 9));

    const r = await runPidwarden(['reap', '--label', 'reaptest=pile', '--max-per-group', '3']);
    expect(r.code).toBe(0);
    const l = reapLines(r.stdout);
    expect(l.map((x) => x.containerId).sort()).toEqual(ids.slice(0, 9).sort());
    for (const x of l) expect(x).toMatchObject({ rule: 'pile', result: 'stopped', groupSize: 12, maxPerGroup: 3 });
    ids.slice(0, 9).forEach((id) => expect(stateOf(id)).toMatchObject({ exists: true, running: false }));
    ids.slice(9).forEach((id) => expect(stateOf(id).running).toBe(true));

    // Nothing more to do: 3 left.
    const again = await runPidwarden(['reap', '--label', 'reaptest=pile', '--max-per-group', '3']);
    expect(again.code).toBe(0);
    expect(reapLines(again.stdout)).toEqual([]);
  });

  test('--remove: a compose-managed container is only stopped, one labelled pidwarden.reap=false is never stopped', async () => {
    const pid = String(await deadPid());
    const compose = runContainer('compose-mcp-1', { reaptest: 'keep', 'mcpmon.pid': pid, 'com.docker.compose.project': 'mcp', 'com.docker.compose.service': 'postgres', 'com.docker.compose.container-number': '1' });
    const kept = runContainer('kept', { reaptest: 'keep', 'mcpmon.pid': pid, 'pidwarden.reap': 'false' });
    const plain = runContainer('plain', { reaptest: 'keep', 'mcpmon.pid': pid });
    const r = await runPidwarden(['reap', '--label', 'reaptest=keep', '--remove']);
    expect(r.code).toBe(0);
    const l = reapLines(r.stdout);
    const by = (id: string) => l.find((x) => x.containerId === id);
    expect(by(compose)).toMatchObject({ rule: 'orphan', action: 'stop', result: 'stopped', compose: true });
    expect(by(plain)).toMatchObject({ rule: 'orphan', action: 'stop+remove', result: 'removed' });
    expect(by(kept)).toMatchObject({ rule: 'orphan', action: 'none', result: 'kept' });
    expect(stateOf(compose)).toMatchObject({ exists: true, running: false });
    expect(stateOf(plain).exists).toBe(false);
    expect(stateOf(kept).running).toBe(true);
    expect(r.stderr).toContain('kept, label pidwarden.reap=false');
  });

  test('no orphan by PID where the PID cannot be checked: a remote engine, a /proc that is not the engine host\'s', async () => {
    const id = runContainer('unverifiable', { reaptest: 'unverifiable', 'mcpmon.pid': String(await deadPid()) });
    const sel = ['reap', '--label', 'reaptest=unverifiable'];
    const notices = (text: string) => lines(text).filter((l) => l.event === 'notice').map((l) => String(l.reason));

    const remote = await runPidwarden([...sel, '--docker-host', process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '']);
    expect(remote.code).toBe(0);
    expect(reapLines(remote.stdout)).toEqual([]);
    expect(notices(remote.stdout)).toEqual([expect.stringContaining('the engine is remote')]);

    const foreign = mkdtempSync(join(tmp, 'proc-'));
    const elsewhere = await runPidwarden([...sel, '--proc-root', foreign]);
    expect(elsewhere.code).toBe(0);
    expect(reapLines(elsewhere.stdout)).toEqual([]);
    expect(notices(elsewhere.stdout)).toEqual([expect.stringContaining("this /proc is not the engine host's")]);
    expect(stateOf(id).running).toBe(true);

    // The host's /proc bound at hostProc, read by pidwarden as PID 1 of a PID namespace of its own
    // (unshare(1), as test/integration/layouts.test.ts does for a container without pid: host): the
    // init PID is there, but --proc-root's `self` is not pidwarden, so the locality rule of every
    // other host read (src/observe/locality.ts) says not local, and the owners are not judged.
    const hostProc = mkdtempSync(join(tmp, 'hostproc-'));
    const BIND_THEN_UNSHARE = 'mount --bind /proc "$1" && shift && exec unshare --pid --fork --kill-child --mount-proc "$@"';
    const inOwnPidNs = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', BIND_THEN_UNSHARE, 'sh', hostProc, PIDWARDEN_BIN];
    const ownNs = await runPidwarden([...sel, '--proc-root', hostProc], { command: inOwnPidNs });
    expect(ownNs.code).toBe(0);
    expect(reapLines(ownNs.stdout)).toEqual([]);
    expect(notices(ownNs.stdout)).toEqual([expect.stringContaining("another PID namespace's /proc")]);
    expect(stateOf(id).running).toBe(true);

    const local = await runPidwarden(sel);
    expect(reapLines(local.stdout).map((l) => [l.containerId, l.rule, l.result])).toEqual([[id, 'orphan', 'stopped']]);
  });

  test("pidwarden's own container is never stopped, though its selection and --max-age take it in", () => {
    // pidwarden as examples/compose.yaml runs it: the image of examples/build-image.sh (dist/pidwarden
    // and its libraries), the engine's socket mounted; its own container carries the selected label
    // and a start label two hours old, as does one other container.
    const built = Bun.spawnSync(['bash', join(REPO_ROOT, 'examples', 'build-image.sh')], { env: dockerEnv(), stdout: 'pipe', stderr: 'pipe' });
    expect(built.exitCode).toBe(0);
    const old = String(Math.floor(Date.now() / 1000) - 7200);
    const other = runContainer('self-other', { reaptest: 'self', 'mcp-started': old });
    const self = `${RUN_ID}-self-pidwarden`;
    const r = docker(
      'run', '--rm', '--network', 'none', '--name', self, '--label', `${RUN_LABEL}=${RUN_ID}`, '--label', 'reaptest=self', '--label', `mcp-started=${old}`,
      '-v', `${(engine.host ?? '').replace(/^unix:\/\//, '')}:/var/run/docker.sock`,
      'pidwarden:local', 'reap', '--label', 'reaptest=self', '--max-age', '1h', '--started-label', 'mcp-started',
    );
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(reapLines(r.stdout).map((l) => [l.containerId, l.rule, l.result])).toEqual([[other, 'age', 'stopped']]);
    const notices = lines(r.stdout).filter((l) => l.event === 'notice');
    expect(notices.map((l) => [l.container, l.reason])).toEqual([[self, "reap: never stopped: pidwarden's own container; the age rule would stop it"]]);
  });

  test('the bystander (dead owner, never selected) was never touched', () => {
    expect(stateOf(bystander)).toEqual(bystanderBefore);
  });

  test('usage errors: a malformed duration or owner label regex exits 2 with one line', async () => {
    for (const args of [['--max-age', 'soon'], ['--owner-label', 'x=(']]) {
      const r = await runPidwarden(['reap', '--label', 'reaptest=none', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
