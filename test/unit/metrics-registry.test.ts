import { describe, expect, test } from 'bun:test';
import { collectorOf } from '../../src/metrics/container-figures.ts';
import { parsePidsEvents as parseForksRefused } from '../../src/observe/pids-limits.ts';
import { M } from '../../src/metrics/families.ts';
import { MonitorMetrics, STALE_INTERVALS } from '../../src/metrics/monitor-metrics.ts';
import { Registry } from '../../src/metrics/registry.ts';
import { parseMetricsAddr } from '../../src/metrics/server.ts';
import type { ContainerPolicy } from '../../src/decide/policy.ts';
import type { ActionFields, ActionLog } from '../../src/log/logger.ts';
import type { ContainerObservation } from '../../src/observe/observation.ts';
import { info, THRESHOLDS } from './helpers/audited.ts';
import { metamcpProcs } from './helpers/procs.ts';

const POLICY: ContainerPolicy = { ...THRESHOLDS, keep: 1, steps: ['dedupe', 'oldest', 'all', 'restart'], restart: 'evidence', restartLimit: { count: 3, windowMs: 3_600_000 } };

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(',') : [];
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

const nullLog = (): ActionLog & { lines: ActionFields[] } => {
  const lines: ActionFields[] = [];
  return { lines, info: (f) => void lines.push(f), warn: (f) => void lines.push(f), error: (f) => void lines.push(f), reopen() {}, flush() {}, lost: 0 };
};

describe('Registry', () => {
  test('gauges, counters, removal by null, HELP and TYPE before samples', () => {
    const r = new Registry([
      { name: 'a_total', type: 'counter', help: 'A.' },
      { name: 'b', type: 'gauge', help: 'B with a \\ backslash.' },
    ]);
    r.inc('a_total', { x: '1' });
    r.inc('a_total', { x: '1' }, 2);
    r.set('b', { y: 'q"uote' }, 5);
    r.set('b', { y: 'gone' }, 1);
    r.set('b', { y: 'gone' }, null);
    expect(r.render()).toBe('# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n# HELP b B with a \\\\ backslash.\n# TYPE b gauge\nb{y="q\\"uote"} 5\n');
  });

  test('an undefined metric is a bug, said at once', () => {
    expect(() => new Registry([]).set('nope', {}, 1)).toThrow('not defined');
  });

  test('dropWhere removes every series of a container that went away', () => {
    const r = new Registry([{ name: 'g', type: 'gauge', help: 'G.' }]);
    r.set('g', { id: 'aaa' }, 1);
    r.set('g', { id: 'bbb' }, 2);
    r.set('g', {}, 3);
    r.dropWhere('id', (v) => v === 'bbb');
    expect(r.render()).toBe('# HELP g G.\n# TYPE g gauge\ng{id="bbb"} 2\ng 3\n');
  });
});

describe('figures from the kernel and from problems', () => {
  test('pids.events: the max line (cgroup v1 and v2 write the same)', () => {
    expect(parseForksRefused('max 0\n')).toBe(0);
    expect(parseForksRefused('max 1234\n')).toBe(1234);
    expect(parseForksRefused('')).toBeNull();
  });

  test('a problem names its collector; a label error is no collector', () => {
    expect(collectorOf('stats: engine said 500')).toBe('stats');
    expect(collectorOf('processes: exec timed out after 5000 ms')).toBe('processes');
    expect(collectorOf('pids cgroup not found through /proc/<init pid>/cgroup')).toBe('cgroup');
    expect(collectorOf('label pidwarden.max-procs="lots": expected a whole number')).toBeNull();
  });

  test('--metrics-addr: HOST:PORT and [IPv6]:PORT; a bare port is refused (no listening on every address by accident)', () => {
    expect(parseMetricsAddr('127.0.0.1:9723')).toEqual({ host: '127.0.0.1', port: 9723 });
    expect(parseMetricsAddr('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseMetricsAddr('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    for (const bad of [':9723', '9723', '127.0.0.1', '127.0.0.1:70000', '::1:9723', '127.0.0.1:x']) expect(parseMetricsAddr(bad)).toBeNull();
  });
});

describe('MonitorMetrics', () => {
  const c = info();
  const labels = { id: c.id.slice(0, 12), name: c.name, image: c.image };

  test('healthz: alive until the last cycle is older than 3 intervals', () => {
    const m = new MonitorMetrics(2, 1_000_000);
    expect(STALE_INTERVALS).toBe(3);
    expect(m.healthy(1_000_000 + 6000)).toBe(true);
    expect(m.healthy(1_000_000 + 6001)).toBe(false);
    m.cycleDone(1_005_000, 1_005_250, true);
    expect(m.healthy(1_005_250 + 6000)).toBe(true);
    const text = m.render();
    expect(sample(text, M.cycles)).toBe(1);
    expect(sample(text, M.lastCycleDuration)).toBe(0.25);
    expect(sample(text, M.lastCycleTimestamp)).toBe(1005.25);
    expect(sample(text, M.engineUp)).toBe(1);
    expect(sample(text, M.interval)).toBe(2);
    expect(sample(text, M.collectorSuccess, { collector: 'engine' })).toBe(1);
  });

  test('an engine down: engine_up 0 and the engine collector failed, the loop still counts as cycling', () => {
    const m = new MonitorMetrics(1, 0);
    m.cycleDone(0, 10, false);
    expect(sample(m.render(), M.engineUp)).toBe(0);
    expect(sample(m.render(), M.collectorSuccess, { collector: 'engine' })).toBe(0);
    expect(m.healthy(100)).toBe(true);
  });

  test('cheap check: cgroup figures; runaway trees unknown while healthy, kept while the full look follows', () => {
    const m = new MonitorMetrics(1, 0);
    const obs: ContainerObservation = {
      info: c,
      pids: { current: 199, max: 250, source: 'cgroup-v1' },
      cgroupDir: null,
      table: { procs: metamcpProcs(), source: 'ps', flavor: 'busybox' },
      stats: null,
      problems: [],
      layout: { local: true, pidMode: '', sharedPidNamespace: false, nsDepth: 2, hostSignals: true },
    };
    m.observed(obs, POLICY);
    expect(sample(m.render(), M.runawayTrees, labels)).toBe(10);
    expect(sample(m.render(), M.healthy, labels)).toBe(0);
    m.cheap(c, '/nonexistent', { current: 199, max: 250, processes: 33 }, false);
    expect(sample(m.render(), M.runawayTrees, labels)).toBe(10);
    m.cheap(c, '/nonexistent', { current: 12, max: 250, processes: 4 }, true);
    const text = m.render();
    expect(sample(text, M.runawayTrees, labels)).toBeUndefined();
    expect(sample(text, M.processes, labels)).toBe(4);
    expect(sample(text, M.tasks, labels)).toBe(12);
    expect(sample(text, M.pidsLimit, labels)).toBe(250);
    expect(sample(text, M.healthy, labels)).toBe(1);
  });

  test('counters from the log: SIGTERM victims by step, restarts, suppressed, skipped; dry runs and SIGKILL not counted', () => {
    const m = new MonitorMetrics(1, 0);
    m.cheap(c, '/nonexistent', { current: 50, max: null, processes: 30 }, false);
    const inner = nullLog();
    const log = m.countingLog(inner);
    const ids = { container: c.name, containerId: c.id };
    log.info({ event: 'kill', ...ids, step: 'dedupe', signal: 'SIGTERM', pids: [17, 28, 29], dryRun: false });
    log.info({ event: 'kill', ...ids, step: 'dedupe', signal: 'SIGKILL', pids: [17], dryRun: false });
    log.info({ event: 'kill', ...ids, step: 'oldest', signal: 'SIGTERM', pids: [40], dryRun: true });
    log.info({ event: 'restart', ...ids, step: 'restart', dryRun: false });
    log.warn({ event: 'restart-suppressed', ...ids, step: 'restart', dryRun: false });
    log.warn({ event: 'restart-skipped', ...ids, step: 'restart', dryRun: false });
    log.warn({ event: 'restart-skipped', ...ids, step: 'restart', dryRun: false });
    expect(inner.lines).toHaveLength(7); // every line still goes to the log, first
    const text = m.render();
    expect(sample(text, M.killed, { ...labels, step: 'dedupe' })).toBe(3);
    expect(sample(text, M.killed, { ...labels, step: 'oldest' })).toBe(0);
    expect(sample(text, M.killed, { ...labels, step: 'all' })).toBe(0);
    expect(sample(text, M.restarts, labels)).toBe(1);
    expect(sample(text, M.restartsSuppressed, labels)).toBe(1);
    expect(sample(text, M.restartsSkipped, labels)).toBe(2);
  });

  test('a container renamed (docker rename) is shown under its new name only, its counters from 0', () => {
    const m = new MonitorMetrics(1, 0);
    m.cheap(c, '/nonexistent', { current: 5, max: 100, processes: 3 }, true);
    const log = m.countingLog(nullLog());
    log.info({ event: 'restart', container: c.name, containerId: c.id, step: 'restart', dryRun: false });
    expect(sample(m.render(), M.restarts, labels)).toBe(1);
    const renamed = { ...c, name: 'mcp-hub-old' };
    m.cheap(renamed, '/nonexistent', { current: 6, max: 100, processes: 4 }, true);
    const text = m.render();
    expect(text).not.toContain(`name="${c.name}"`);
    const now = { ...labels, name: 'mcp-hub-old' };
    expect(sample(text, M.processes, now)).toBe(4);
    expect(sample(text, M.restarts, now)).toBe(0);
    log.info({ event: 'restart', container: renamed.name, containerId: c.id, step: 'restart', dryRun: false });
    expect(sample(m.render(), M.restarts, now)).toBe(1);
  });

  test('a container that leaves the selection takes its series with it', () => {
    const m = new MonitorMetrics(1, 0);
    m.cheap(c, '/nonexistent', { current: 5, max: 100, processes: 3 }, true);
    expect(m.render()).toContain(labels.id);
    m.retain(new Set());
    expect(m.render()).not.toContain(labels.id);
  });
});
