/**
 * Safe by default on a mixed host, against the REAL private engine: cleanup and monitor act only
 * where the operator asked, restart only with evidence, and keep their restart limits across runs
 * in a state file shared under flock. Side by side on one host:
 *   storm     a MetaMCP-like container in a storm of duplicate `npm exec` trees (label mcp.hub)
 *   orphans   its sibling whose npm exec wrappers were SIGKILLed: only orphaned servers are left
 *   twin      an unselected twin of the storm (pidwarden.enable=false: left alone even by --all)
 *   busy      a plain busy container: 25 processes, no npm exec at all
 *   roomy     the same, labelled pidwarden.max-procs=40
 *   badlabel  the same, labelled pidwarden.max-procs=lots
 *   agent     a monitoring agent with --pid=host
 * Every claim is checked against the kernel (host /proc) and the engine (StartedAt), not against
 * pidwarden's own word. Waits are for conditions, with deadlines.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeEngine,
  PIDWARDEN_BIN,
  pidwardenEnv,
  docker,
  dockerOk,
  hostProcsOfContainer,
  type HostProc,
  isNpm,
  liveChains,
  runPidwarden,
  startWorkload,
  waitFor,
  waitForChains,
  type Workload,
  parseJsonl,
} from './harness.ts';
import { MAGIC, MAGIC_TITLE } from './packages.ts';

setDefaultTimeout(90_000);

const tmp = mkdtempSync(join(tmpdir(), 'pwt-safety-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Line {
  event: string;
  level: string;
  container?: string;
  step?: string;
  reason?: string;
  healthy?: boolean;
  steps?: string[];
  [k: string]: unknown;
}
const parse = (text: string): Line[] => parseJsonl<Line>(text);
const of = (lines: Line[], container: string) => lines.filter((l) => l.container === container);
const startedAt = (w: Workload) => dockerOk('inspect', '-f', '{{.State.StartedAt}}', w.id);
const identities = (procs: HostProc[]) => procs.filter((p) => p.state !== 'Z').map((p) => `${p.hostPid}@${p.startTicks}`).sort();
const SLEEPS = (n: number) => [{ argv: ['sleep', '1000'], copies: n }];

describeEngine('a mixed host: act only where asked, restart only with evidence', () => {
  const w = {} as Record<'storm' | 'orphans' | 'twin' | 'busy' | 'roomy' | 'badlabel' | 'agent', Workload>;
  const started = {} as Record<keyof typeof w, string>;

  test('set-up: storm, orphans, twin, busy, roomy, badlabel, agent', async () => {
    const storm = { image: 'busybox', reap: 'all' as const, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] };
    [w.storm, w.orphans, w.twin, w.busy, w.roomy, w.badlabel, w.agent] = await Promise.all([
      startWorkload({ ...storm, name: 'storm', labels: { 'mcp.hub': 'metamcp' } }),
      startWorkload({ ...storm, name: 'orphans', labels: { 'mcp.hub': 'metamcp' }, trees: [{ npx: MAGIC, copies: 8 }] }),
      startWorkload({ ...storm, name: 'twin', labels: { 'pidwarden.enable': 'false' } }),
      startWorkload({ image: 'busybox', name: 'busy', interval: 0.02, procs: SLEEPS(24) }),
      startWorkload({ image: 'busybox', name: 'roomy', interval: 0.02, procs: SLEEPS(24), pidsLimit: 200, labels: { 'pidwarden.max-procs': '40' } }),
      startWorkload({ image: 'busybox', name: 'badlabel', interval: 0.02, procs: SLEEPS(24), labels: { 'pidwarden.max-procs': 'lots' } }),
      startWorkload({ image: 'busybox', name: 'agent', runArgs: ['--pid', 'host'] }),
    ]);
    await Promise.all([waitForChains(w.storm, 6), waitForChains(w.twin, 6), waitForChains(w.orphans, 8)]);
    for (const name of ['busy', 'roomy', 'badlabel'] as const) {
      await waitFor(() => hostProcsOfContainer(w[name]).length === 25, 20_000, 100, `${name}: 25 processes`);
    }
    // kill the orphans container's npm exec wrappers alone: sh -c and node go on under PID 1
    for (const p of hostProcsOfContainer(w.orphans).filter(isNpm)) process.kill(p.hostPid, 'SIGKILL');
    await waitFor(() => {
      const ps = hostProcsOfContainer(w.orphans);
      return !ps.some(isNpm) && ps.filter((p) => p.argv[0] === 'node' && p.ppid !== 0 && p.pid !== 1).length === 8 ? ps : null;
    }, 20_000, 100, 'the 8 servers orphaned, their npm gone and reaped');
    for (const k of Object.keys(w) as (keyof typeof w)[]) started[k] = startedAt(w[k]);
  });

  test('cleanup with no selection: exit 2, one line naming the unhealthy containers and how to select', async () => {
    const before = identities(hostProcsOfContainer(w.storm));
    const r = await runPidwarden(['cleanup']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pidwarden: nothing selected to act on; unhealthy now: /);
    expect(lines[0]).toContain(`${w.storm.name} (19 processes, 6 runaway trees)`);
    expect(lines[0]).toContain(`${w.busy.name} (25 processes, 0 runaway trees)`);
    expect(lines[0]).toContain('--label KEY[=VALUE] or --all');
    expect(lines[0]).not.toContain(w.twin.name); // pidwarden.enable=false: not even proposed
    expect(r.stdout).toBe('');
    expect(identities(hostProcsOfContainer(w.storm))).toEqual(before);
  });

  test('cleanup --label mcp.hub=metamcp: the storm and the orphans are cleaned without a restart; nothing else touched', async () => {
    const twinBefore = identities(hostProcsOfContainer(w.twin));
    const busyBefore = identities(hostProcsOfContainer(w.busy));
    const newest = liveChains(hostProcsOfContainer(w.storm)).sort((a, b) => b.npm.startTicks - a.npm.startTicks)[0]!;
    const r = await runPidwarden(['cleanup', '--label', 'mcp.hub=metamcp', '--grace', '1']);
    expect(r.code).toBe(0);
    const lines = parse(r.stdout);
    for (const name of [w.storm.name, w.orphans.name]) {
      const result = of(lines, name).find((l) => l.event === 'result')!;
      expect(result.healthy).toBe(true);
      expect(result.steps).toEqual(['dedupe']);
      expect(of(lines, name).some((l) => l.event === 'restart')).toBe(false);
    }
    expect(new Set(lines.map((l) => l.container))).toEqual(new Set([w.storm.name, w.orphans.name]));
    // the kernel: the storm keeps exactly its newest tree; the orphans keep one server
    const storm = hostProcsOfContainer(w.storm);
    expect(liveChains(storm).map((c) => c.npm.hostPid)).toEqual([newest.npm.hostPid]);
    await waitFor(() => hostProcsOfContainer(w.orphans).filter((p) => p.argv[0] === 'node' && p.pid !== 1).length === 1, 10_000, 100, 'one orphaned server left');
    expect(startedAt(w.storm)).toBe(started.storm);
    expect(startedAt(w.orphans)).toBe(started.orphans);
    expect(identities(hostProcsOfContainer(w.twin))).toEqual(twinBefore);
    expect(identities(hostProcsOfContainer(w.busy))).toEqual(busyBefore);
  });

  test('cleanup --all: the busy container is not restarted and restart-skipped says why; twin, agent untouched; a malformed label is an error', async () => {
    const twinBefore = identities(hostProcsOfContainer(w.twin));
    const r = await runPidwarden(['cleanup', '--all', '--grace', '1']);
    expect(r.code).toBe(1); // busy stays unhealthy, badlabel is skipped
    const lines = parse(r.stdout);
    const skipped = of(lines, w.busy.name).find((l) => l.event === 'restart-skipped')!;
    expect(skipped.level).toBe('warn');
    expect(skipped.reason).toContain('25 processes > max-procs 15');
    expect(skipped.reason).toContain('raise pidwarden.max-procs on this container or widen --match');
    expect(of(lines, w.busy.name).some((l) => l.event === 'kill' || l.event === 'restart')).toBe(false);
    const bad = of(lines, w.badlabel.name);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ event: 'error', level: 'error' });
    expect(bad[0]!.reason).toContain('label pidwarden.max-procs="lots"');
    expect(of(lines, w.roomy.name).find((l) => l.event === 'result')?.healthy).toBe(true);
    expect(of(lines, w.twin.name)).toEqual([]);
    expect(r.stderr).toContain(`${w.twin.name}: left alone (label pidwarden.enable=false)`);
    expect(r.stderr).toContain(`${w.busy.name}: no step applied`);
    expect(r.stderr).toContain('restart-skipped');
    for (const k of ['busy', 'roomy', 'badlabel', 'agent', 'twin', 'storm', 'orphans'] as const) expect(startedAt(w[k])).toBe(started[k]);
    // the pid=host agent is its own cgroup's one process, not the host's hundreds: never restarted, nothing signalled through it
    expect(of(lines, w.agent.name).some((l) => l.event === 'kill' || l.event === 'restart')).toBe(false);
    expect(identities(hostProcsOfContainer(w.twin))).toEqual(twinBefore);
    expect(hostProcsOfContainer(w.busy)).toHaveLength(25);
  });

  test('--exclude wins over --all', async () => {
    const r = await runPidwarden(['cleanup', '--all', '--exclude', w.busy.name, '--exclude', w.badlabel.id.slice(0, 12), '--dry-run']);
    const names = new Set(parse(r.stdout).map((l) => l.container));
    expect(names.has(w.busy.name)).toBe(false);
    expect(names.has(w.badlabel.name)).toBe(false);
    expect(r.stderr).toContain(`${w.busy.name}: left alone (--exclude ${w.busy.name})`);
  });

  test('audit: pidwarden.max-procs=40 makes roomy ok; the malformed label is reported under problems; policy sources shown', async () => {
    const r = await runPidwarden(['audit', '--json', '--container', w.roomy.name, '--container', w.badlabel.name, '--container', w.busy.name]);
    const doc = JSON.parse(r.stdout) as { containers: { name: string; status: string; problems: string[]; policy: Record<string, { value: unknown; from: string }> & { error?: string } }[] };
    const by = new Map(doc.containers.map((c) => [c.name, c]));
    expect(by.get(w.roomy.name)!.status).toBe('ok');
    expect(by.get(w.roomy.name)!.policy.maxProcs).toEqual({ value: 40, from: 'label' });
    expect(by.get(w.roomy.name)!.policy.pidsRatio).toEqual({ value: 0.8, from: 'default' });
    expect(by.get(w.busy.name)!.status).toBe('critical');
    expect(by.get(w.busy.name)!.policy.maxProcs).toEqual({ value: 15, from: 'default' });
    const bad = by.get(w.badlabel.name)!;
    expect(bad.problems.join('\n')).toContain('label pidwarden.max-procs="lots": expected a whole number');
    expect(bad.policy.error).toContain('pidwarden.max-procs');
  });

  test('the command line only narrows a label: --max-procs 60 raises roomy\'s 40, --max-procs 30 leaves it', async () => {
    const audit = async (...args: string[]) => {
      const r = await runPidwarden(['audit', '--json', '--container', w.roomy.name, ...args]);
      return (JSON.parse(r.stdout) as { containers: { policy: Record<string, { value: unknown; from: string }> }[] }).containers[0]!.policy;
    };
    expect((await audit('--max-procs', '60')).maxProcs).toEqual({ value: 60, from: 'flag' });
    expect((await audit('--max-procs', '30')).maxProcs).toEqual({ value: 40, from: 'label' });
  });
});

describeEngine('restart limits across runs, one ladder per container, the container stop timeout', () => {
  const state = () => join(tmp, 'hopeless-state', 'state.json');

  test('a hopeless container is restarted at most N times over repeated cleanup runs; the attempts are in the state file', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'hopeless', reap: 'all', interval: 0.05, respawn: true, respawnDelay: 0.05, trees: [{ npx: MAGIC, copies: 3 }] });
    const args = ['cleanup', '--container', w.name, '--steps', 'restart', '--max-procs', '3', '--restart-limit', '2/1h', '--state-file', state()];
    const results: number[] = [];
    const restarts: number[] = [];
    for (let run = 0; run < 3; run++) {
      await waitForChains(w, 2, 30_000); // the storm is back before every run
      const before = startedAt(w);
      const r = await runPidwarden(args);
      results.push(r.code);
      const lines = parse(r.stdout);
      restarts.push(lines.filter((l) => l.event === 'restart').length);
      if (run < 2) expect(startedAt(w)).not.toBe(before);
      else {
        expect(startedAt(w)).toBe(before);
        const s = lines.find((l) => l.event === 'restart-suppressed')!;
        expect(s.level).toBe('warn');
        expect(s.reason).toContain('2 restart attempts in the window');
        expect(typeof s['retryAt']).toBe('string');
      }
    }
    expect(restarts).toEqual([1, 1, 0]);
    expect(results[2]).toBe(1);
    const doc = JSON.parse(readFileSync(state(), 'utf8')) as { version: number; containers: Record<string, { name: string; restarts: number[] }> };
    expect(doc.version).toBe(1);
    expect(doc.containers[w.id]!.restarts).toHaveLength(2);
    expect(doc.containers[w.id]!.name).toBe(w.name);
  });

  test('two cleanups at once on one container: the second logs busy and does nothing', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'twice', reap: 'all', interval: 0.05, trees: [{ npx: MAGIC, copies: 4, noterm: true }] });
    await waitForChains(w, 4);
    const log = join(tmp, 'twice.jsonl');
    const args = ['cleanup', '--container', w.name, '--steps', 'dedupe', '--max-procs', '5', '--grace', '6', '--state-file', join(tmp, 'twice', 'state.json')];
    const first = runPidwarden([...args, '--log-file', log]);
    // the first holds the ladder lock while it waits out the grace period of its SIGTERM
    await waitFor(() => existsSync(log) && parse(readFileSync(log, 'utf8')).some((l) => l.event === 'kill'), 20_000, 50, 'the first cleanup to signal');
    const second = await runPidwarden(args);
    const lines = parse(second.stdout);
    expect(lines.map((l) => l.event)).toEqual(['busy']);
    expect(lines[0]!.reason).toBe('another pidwarden is running a ladder on this container');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('busy');
    const r1 = await first;
    expect(r1.code).toBe(0);
    expect(liveChains(hostProcsOfContainer(w))).toHaveLength(1);
  });

  test("a restart waits the container's StopTimeout, not --grace; --stop-timeout overrides it", async () => {
    // PID 1 ignores SIGUSR2 (no handler: the namespace's init is immune to default actions), so
    // the engine waits out the stop timeout, then SIGKILLs: the two kill events are that far apart.
    const w = await startWorkload({
      image: 'busybox',
      name: 'stoptimeout',
      reap: 'all',
      interval: 0.05,
      trees: [{ npx: MAGIC, copies: 3 }],
      runArgs: ['--stop-timeout', '3', '--stop-signal', 'SIGUSR2'],
    });
    await waitForChains(w, 3);
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await runPidwarden(['cleanup', '--container', w.name, '--steps', 'restart', '--max-procs', '3', '--grace', '0.5', '--state-file', join(tmp, 'st', 'state.json')]);
    const restart = parse(r.stdout).find((l) => l.event === 'restart')!;
    expect(restart).toMatchObject({ stopTimeout: 3, stopTimeoutFrom: 'container' });
    const gap = await killGap(w, since);
    expect(gap).toBeGreaterThanOrEqual(2.9); // waited the container's 3 s (a lower bound: load only adds)

    await waitForChains(w, 3);
    const since2 = Math.floor(Date.now() / 1000);
    const r2 = await runPidwarden(['cleanup', '--container', w.name, '--steps', 'restart', '--max-procs', '3', '--stop-timeout', '1', '--state-file', join(tmp, 'st2', 'state.json')]);
    expect(parse(r2.stdout).find((l) => l.event === 'restart')).toMatchObject({ stopTimeout: 1, stopTimeoutFrom: 'flag' });
    expect(await killGap(w, since2)).toBeGreaterThanOrEqual(0.9);
  });
});

describeEngine('monitor without a selection: the opt-in label', () => {
  /** A monitor of this test (SIGTERMed at the end); its JSONL log file is read as it grows. */
  function monitor(name: string, args: string[]) {
    const log = join(tmp, `${name}.jsonl`);
    const proc = Bun.spawn([PIDWARDEN_BIN, 'monitor', '--interval', '0.5', '--grace', '1', '--log-file', log, ...args], {
      env: pidwardenEnv(),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const lines = () => (existsSync(log) ? parse(readFileSync(log, 'utf8')) : []);
    const stop = async () => {
      proc.kill('SIGTERM');
      return { code: await proc.exited, stderr: await new Response(proc.stderr).text() };
    };
    return { lines, stop };
  }

  test('no container opted in: the monitor says so once, at start, and keeps watching', async () => {
    const m = monitor('none-opted-in', []);
    await waitFor(() => m.lines().some((l) => l.event === 'notice'), 20_000, 100, 'the notice line');
    const { code, stderr } = await m.stop();
    expect(code).toBe(0);
    const notices = m.lines().filter((l) => l.event === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.reason).toContain('no running container carries pidwarden.enable=true yet');
    expect(stderr).toContain('pidwarden.enable=true');
  });

  test('a storm labelled pidwarden.enable=true is cleaned; an unlabelled storm beside it is left alone', async () => {
    const spec = { image: 'busybox', reap: 'all' as const, interval: 0.05, trees: [{ npx: MAGIC, copies: 5 }] };
    const [mine, other] = await Promise.all([
      startWorkload({ ...spec, name: 'opted-in', labels: { 'pidwarden.enable': 'true' } }),
      startWorkload({ ...spec, name: 'not-opted-in' }),
    ]);
    await Promise.all([waitForChains(mine, 5), waitForChains(other, 5)]);
    const otherBefore = identities(hostProcsOfContainer(other));
    const m = monitor('opt-in', []);
    await waitFor(() => m.lines().some((l) => l.event === 'result' && l.container === mine.name && l.healthy === true), 30_000, 100, 'the opted-in storm cleaned');
    const { code } = await m.stop();
    expect(code).toBe(0);
    expect(m.lines().some((l) => l.container === other.name)).toBe(false);
    expect(m.lines().some((l) => l.event === 'notice')).toBe(false);
    expect(liveChains(hostProcsOfContainer(mine))).toHaveLength(1);
    expect(identities(hostProcsOfContainer(other))).toEqual(otherBefore);
  });
});

/** Seconds between the engine's stop-signal kill event and its SIGKILL for the container, since `since`. */
async function killGap(w: Workload, since: number): Promise<number> {
  return waitFor(() => {
    const ev = docker('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${w.id}`, '--filter', 'event=kill', '--format', '{{.TimeNano}} {{.Actor.Attributes.signal}}');
    const rows = ev.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
    const soft = rows.find((r) => r[1] === '12' || r[1] === 'SIGUSR2');
    const hard = rows.find((r) => r[1] === '9' || r[1] === 'SIGKILL');
    return soft && hard ? (Number(hard[0]) - Number(soft[0])) / 1e9 : null;
  }, 20_000, 200, 'the stop signal and the SIGKILL events');
}

void MAGIC_TITLE;
