/**
 * Metrics, tested with a real Prometheus (Debian's `prometheus` package, installed by
 * scripts/test.sh): `monitor --metrics-addr 127.0.0.1:0` scraped every second by a Prometheus of
 * this test (loopback only, own storage in a temp dir, no other target, no remote write), a storm
 * and its cleanup read back through Prometheus' HTTP API (/api/v1/query) and compared with the
 * kernel (cgroup.procs) and the monitor's JSONL; `promtool check metrics` on the endpoint and the
 * audit's textfile; /healthz 503 while the loop is stuck (its engine, behind a proxy of this test,
 * holds every request) and /metrics answering meanwhile; the alert rules
 * and the Grafana dashboard of examples/ checked against the metrics that exist.
 * Waits are waitFor() on conditions, never fixed sleeps.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_METRICS, MONITOR_METRICS } from '../../src/metrics/families.ts';
import { cgroupDir, cgroupProcs, describeEngine, engine, PIDWARDEN_BIN, pidwardenEnv, REPO_ROOT, RUN_ID, runPidwarden, startWorkload, waitFor, type Workload, readJsonl } from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(120_000);

const MAX_PROCS = 8;
/** Long enough that the storm's figures stay on /metrics for several 1 s scrapes before the next cycle replaces them. */
const INTERVAL = 3;
const LABEL_KEY = 'pidwarden-test.prometheus';
const EXAMPLES = join(REPO_ROOT, 'examples');

function which(program: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin']) if (existsSync(join(dir, program))) return join(dir, program);
  return null;
}

/** promtool with text on stdin (check metrics) or with arguments. */
function promtool(args: string[], stdin?: string): { code: number; out: string } {
  const bin = which('promtool');
  if (!bin) throw new Error('promtool missing: scripts/test.sh installs Debian\'s prometheus package');
  const r = Bun.spawnSync([bin, ...args], { cwd: EXAMPLES, stdin: stdin === undefined ? 'ignore' : Buffer.from(stdin), stdout: 'pipe', stderr: 'pipe', timeout: 60_000 });
  return { code: r.exitCode ?? 137, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

/** A port nobody listens on right now (the kernel's choice), for a program that cannot report the one it got. */
function freePort(): number {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  const port = s.port!;
  s.stop(true);
  return port;
}

interface Line {
  event: string;
  containerId?: string;
  signal?: string;
  pids?: number[];
  dryRun?: boolean;
  healthy?: boolean;
  metricsAddr?: string;
  [k: string]: unknown;
}

const readLog = (path: string): Line[] => readJsonl<Line>(path);


interface Started {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  stderr: Promise<string>;
}

function start(argv: string[]): Started {
  const proc = Bun.spawn(argv, { cwd: REPO_ROOT, env: pidwardenEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  return { proc, stderr: new Response(proc.stderr).text() };
}

async function stop(s: Started | null): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill('SIGTERM');
  const done = await Promise.race([s.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
  if (!done) {
    s.proc.kill('SIGKILL');
    await s.proc.exited;
  }
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

/**
 * A unix socket in front of the engine's that holds every connection until release(), then passes
 * bytes both ways: an engine that accepts and does not answer, without touching the shared engine.
 */
function stallingProxy(path: string, upstream: string): { path: string; release(): void; held(): number; stop(): void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = 0;
  interface Conn {
    up: Awaited<ReturnType<typeof Bun.connect>> | null;
    buf: Uint8Array[];
    closed: boolean;
  }
  const server = Bun.listen<Conn>({
    unix: path,
    socket: {
      open(client) {
        const c: Conn = { up: null, buf: [], closed: false };
        client.data = c;
        held++;
        void gate.then(async () => {
          if (c.closed) return;
          c.up = await Bun.connect({
            unix: upstream,
            socket: {
              data: (_up, d) => void client.write(d),
              close: () => void client.end(),
              error: () => void client.end(),
            },
          });
          for (const b of c.buf) c.up.write(b);
          c.buf = [];
        });
      },
      data(client, d) {
        if (client.data.up) client.data.up.write(d);
        else client.data.buf.push(new Uint8Array(d));
      },
      close(client) {
        client.data.closed = true;
        client.data.up?.end();
      },
    },
  });
  return { path, release: () => release(), held: () => held, stop: () => server.stop(true) };
}

describe('examples: alert rules and dashboard', () => {
  const known = new Set([...MONITOR_METRICS, ...AUDIT_METRICS].map((m) => m.name));
  /** Metric names in a PromQL text: pidwarden_* (and nothing else of ours). */
  const namesIn = (expr: string) => [...expr.matchAll(/\bpidwarden_[a-z_]+\b/g)].map((m) => m[0]);

  test('promtool check rules and promtool test rules pass on examples/prometheus-alerts.yml', () => {
    const check = promtool(['check', 'rules', 'prometheus-alerts.yml']);
    expect({ code: check.code, out: check.out }).toMatchObject({ code: 0 });
    expect(check.out).toContain('SUCCESS: 6 rules found');
    const t = promtool(['test', 'rules', 'prometheus-alerts.test.yml']);
    expect({ code: t.code, out: t.out }).toMatchObject({ code: 0 });
    expect(t.out).toContain('SUCCESS');
    expect(promtool(['check', 'config', 'prometheus-scrape.yml']).code).toBe(0);
  });

  test('the alerts: runaway, limit within 4 h (predict_linear), forks refused, restarts suppressed, down, not cycling; every metric they name exists', () => {
    const text = readFileSync(join(EXAMPLES, 'prometheus-alerts.yml'), 'utf8');
    const alerts = [...text.matchAll(/- alert: (\S+)/g)].map((m) => m[1]);
    expect(alerts).toEqual(['PidwardenContainerRunaway', 'PidwardenPidsLimitIn4h', 'PidwardenForksRefused', 'PidwardenRestartsSuppressed', 'PidwardenDown', 'PidwardenNotCycling']);
    expect(text).toContain('predict_linear(pidwarden_container_tasks[1h], 4 * 3600)');
    const exprs = [...text.matchAll(/expr: (.*)/g)].map((m) => m[1]!);
    for (const name of exprs.flatMap(namesIn)) expect({ name, known: known.has(name) }).toEqual({ name, known: true });
  });

  test('the Grafana dashboard is well-formed JSON, importable (a datasource input), a panel per question, every query on existing metrics only', () => {
    const dash = JSON.parse(readFileSync(join(EXAMPLES, 'grafana-dashboard.json'), 'utf8'));
    expect(dash.__inputs[0]).toMatchObject({ type: 'datasource', pluginId: 'prometheus' });
    const panels = dash.panels as { title: string; targets: { expr: string }[]; gridPos: { x: number; w: number } }[];
    const titles = panels.map((p) => p.title);
    for (const want of ['Processes per container', 'Runaway trees', 'Tasks against the pids limit', 'Forks refused at the limit', 'Actions: processes killed by step', 'Actions: restarts']) {
      expect(titles).toContain(want);
    }
    const used = new Set<string>();
    for (const p of panels) {
      expect(p.targets.length).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (const t of p.targets) {
        const names = namesIn(t.expr);
        expect({ expr: t.expr, names: names.length > 0 }).toEqual({ expr: t.expr, names: true });
        for (const n of names) {
          expect({ n, known: known.has(n) }).toEqual({ n, known: true });
          used.add(n);
        }
      }
    }
    for (const n of namesIn(JSON.stringify(dash.templating))) expect(known.has(n)).toBe(true);
    expect(used.size).toBeGreaterThanOrEqual(12);
  });
});

describeEngine('metrics: a real Prometheus scrapes the monitor', () => {
  let tmp = '';
  let monitor: Started | null = null;
  let prometheus: Started | null = null;
  let stalled: Started | null = null;
  let logFile = '';
  let metricsUrl = '';
  let promUrl = '';
  let storm: Workload;

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const r = await get(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = JSON.parse(r.text) as { status: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${r.text}`);
    return body.data.result.map((x) => ({ metric: x.metric, value: Number(x.value[1]) }));
  }
  const scalar = async (expr: string) => (await query(expr))[0]?.value;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'pidwarden-prom-'));
  });

  afterAll(async () => {
    await Promise.all([stop(monitor), stop(prometheus), stop(stalled)]);
    const reports = join(REPO_ROOT, '.tmp', 'test-reports', 'prometheus');
    mkdirSync(reports, { recursive: true });
    for (const f of ['monitor.jsonl', 'stalled.jsonl']) if (existsSync(join(tmp, f))) copyFileSync(join(tmp, f), join(reports, f));
    if (prometheus) writeFileSync(join(reports, 'prometheus.stderr'), await prometheus.stderr);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('monitor --metrics-addr 127.0.0.1:0: the start line names the bound address; /healthz 200; /metrics passes promtool check metrics', async () => {
    logFile = join(tmp, 'monitor.jsonl');
    monitor = start([PIDWARDEN_BIN, 'monitor', '--label', `${LABEL_KEY}=${RUN_ID}`, '--interval', String(INTERVAL), '--max-procs', String(MAX_PROCS), '--grace', '1',
      '--log-file', logFile, '--metrics-addr', '127.0.0.1:0']);
    const startLine = await waitFor(() => readLog(logFile).find((l) => l.event === 'start'), 20_000, 50, 'the start line');
    expect(startLine.metricsAddr).toMatch(/^127\.0\.0\.1:\d+$/);
    metricsUrl = `http://${startLine.metricsAddr}`;
    await waitFor(async () => (await get(`${metricsUrl}/healthz`)).status === 200, 20_000, 100, '/healthz 200');
    const m = await get(`${metricsUrl}/metrics`);
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/^pidwarden_up 1$/m);
    expect(m.text).toMatch(/^pidwarden_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    const lint = promtool(['check', 'metrics'], m.text);
    expect({ code: lint.code, out: lint.out }).toEqual({ code: 0, out: '' });
    expect((await get(`${metricsUrl}/nope`)).status).toBe(404);
  });

  test('a Prometheus on loopback (1 s scrapes, own storage) sees the monitor up', async () => {
    const bin = which('prometheus');
    if (!bin) throw new Error("prometheus missing: scripts/test.sh installs Debian's prometheus package");
    const port = freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = join(tmp, 'prometheus.yml');
    writeFileSync(
      config,
      ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: pidwarden', '    static_configs:', `      - targets: ['${metricsUrl.slice('http://'.length)}']`, ''].join('\n'),
    );
    prometheus = start([bin, `--config.file=${config}`, `--storage.tsdb.path=${join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.console.templates=' + join(tmp, 'none'), '--web.console.libraries=' + join(tmp, 'none')]);
    await waitFor(async () => {
      if (prometheus!.proc.exitCode !== null) throw new Error(`prometheus exited ${prometheus!.proc.exitCode}: ${(await prometheus!.stderr).slice(-2000)}`);
      return (await get(`${promUrl}/-/ready`)).status === 200;
    }, 60_000, 200, 'Prometheus ready');
    await waitFor(async () => (await scalar('up{job="pidwarden"}')) === 1, 30_000, 250, 'up{job="pidwarden"} == 1');
    await waitFor(async () => ((await scalar('pidwarden_cycles_total')) ?? 0) >= 1, 30_000, 250, 'a cycle counted');
  });

  test('a storm and its cleanup in PromQL: processes and runaway trees over the limit, then back under it; killed processes counted as the log says', async () => {
    storm = await startWorkload({ image: 'busybox', name: 'prom-storm', labels: { [LABEL_KEY]: RUN_ID }, reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    const sel = `name="${storm.name}"`;
    // the storm, as Prometheus stored it
    await waitFor(async () => ((await scalar(`max_over_time(pidwarden_container_processes{${sel}}[10m])`)) ?? 0) > MAX_PROCS, 60_000, 250, 'the storm in Prometheus');
    await waitFor(async () => ((await scalar(`max_over_time(pidwarden_container_runaway_trees{${sel}}[10m])`)) ?? 0) >= 2, 60_000, 250, 'runaway trees in Prometheus');
    await waitFor(async () => (await scalar(`min_over_time(pidwarden_container_healthy{${sel}}[10m])`)) === 0, 60_000, 250, 'unhealthy at some point');
    // its cleanup: the kernel says so, the log says so, and then Prometheus does
    await waitFor(() => cgroupProcs(storm).length <= MAX_PROCS, 60_000, 100, 'the kernel: back under the limit');
    const killedPerLog = () => readLog(logFile).filter((l) => l.event === 'kill' && l.containerId === storm.id && l.signal === 'SIGTERM' && !l.dryRun).reduce((n, l) => n + (l.pids?.length ?? 0), 0);
    await waitFor(() => readLog(logFile).some((l) => l.event === 'result' && l.containerId === storm.id && l.healthy === true), 60_000, 100, 'a healthy result line');
    await waitFor(async () => (await scalar(`pidwarden_container_processes{${sel}}`)) === cgroupProcs(storm).length, 60_000, 250, 'Prometheus: processes as the kernel counts them');
    await waitFor(async () => (await scalar(`pidwarden_container_healthy{${sel}}`)) === 1, 60_000, 250, 'Prometheus: healthy again');
    const killed = killedPerLog();
    expect(killed).toBeGreaterThanOrEqual(3);
    await waitFor(async () => (await scalar(`sum(pidwarden_processes_killed_total{${sel}})`)) === killed, 60_000, 250, `Prometheus: ${killed} processes killed, as logged`);
    const labels = (await query(`pidwarden_container_processes{${sel}}`))[0]!.metric;
    expect(labels).toMatchObject({ id: storm.id.slice(0, 12), name: storm.name, image: 'pidwarden-test/busybox' });
    // the pids limit in force and the tasks, as the cgroup files say (Docker's default: no limit)
    expect(await query(`pidwarden_container_pids_limit{${sel}}`)).toEqual([]);
    expect(((await scalar(`pidwarden_container_tasks{${sel}}`)) ?? 0) > 0).toBe(true);
    expect(await scalar(`pidwarden_container_forks_refused_total{${sel}}`)).toBe(Number(/^max (\d+)$/m.exec(readFileSync(join(cgroupDir(storm), 'pids.events'), 'utf8'))![1]));
    expect(await scalar('pidwarden_engine_up')).toBe(1);
    expect(await scalar('pidwarden_collector_success{collector="processes"}')).toBe(1);
    expect(((await scalar('pidwarden_last_cycle_duration_seconds')) ?? -1) >= 0).toBe(true);
    const lint = promtool(['check', 'metrics'], (await get(`${metricsUrl}/metrics`)).text);
    expect({ code: lint.code, out: lint.out }).toEqual({ code: 0, out: '' });
  });

  test('audit --prom-file passes promtool check metrics; an audit that fails rewrites it with pidwarden_up 0', async () => {
    const path = join(tmp, 'pidwarden.prom');
    const r = await runPidwarden(['audit', '--container', storm.id, '--prom-file', path]);
    expect(r.code).toBeLessThanOrEqual(1);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^pidwarden_up 1$/m);
    expect(text).toContain(`pidwarden_container_processes{id="${storm.id.slice(0, 12)}",name="${storm.name}",image="pidwarden-test/busybox"}`);
    const lint = promtool(['check', 'metrics'], text);
    expect({ code: lint.code, out: lint.out }).toEqual({ code: 0, out: '' });
    const down = await runPidwarden(['audit', '--prom-file', path, '--docker-host', `unix://${join(tmp, 'no-engine.sock')}`]);
    expect(down.code).toBe(3);
    const after = readFileSync(path, 'utf8');
    expect(after).toMatch(/^pidwarden_up 0$/m);
    expect(after).toMatch(/^pidwarden_engine_up 0$/m);
    expect(after).not.toContain('pidwarden_container_processes{');
    expect(promtool(['check', 'metrics'], after).code).toBe(0);
  });

  test('/healthz: 503 while the loop is stuck (its engine holds every request), /metrics still answers; 200 once it cycles again', async () => {
    const upstream = (engine.host ?? '').replace(/^unix:\/\//, '');
    if (!upstream.startsWith('/')) throw new Error(`this test needs a unix:// engine, got ${engine.host}`);
    const proxy = stallingProxy(join(tmp, 'stalling.sock'), upstream);
    const stalledLog = join(tmp, 'stalled.jsonl');
    try {
      stalled = start([PIDWARDEN_BIN, 'monitor', '--label', `${LABEL_KEY}.stall=${RUN_ID}`, '--interval', '0.3', '--log-file', stalledLog,
        '--metrics-addr', '127.0.0.1:0', '--docker-host', `unix://${proxy.path}`]);
      const line = await waitFor(() => readLog(stalledLog).find((l) => l.event === 'start'), 20_000, 50, 'the start line');
      const url = `http://${line.metricsAddr}`;
      // 3 intervals are 0.9 s; the first cycle waits on the engine for as long as the proxy holds it
      await waitFor(async () => (await get(`${url}/healthz`)).status === 503, 30_000, 100, '/healthz 503 while stuck');
      expect(proxy.held()).toBeGreaterThanOrEqual(1);
      // a scrape never waits on a cycle
      const m = await get(`${url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.text).toMatch(/^pidwarden_up 1$/m);
      expect(m.text).toMatch(/^pidwarden_cycles_total 0$/m);
      proxy.release();
      await waitFor(async () => (await get(`${url}/healthz`)).status === 200, 60_000, 100, '/healthz 200 again');
      await waitFor(async () => /^pidwarden_cycles_total [1-9]/m.test((await get(`${url}/metrics`)).text), 30_000, 100, 'cycles counted');
    } finally {
      proxy.release();
      await stop(stalled);
      proxy.stop();
    }
  });
});
