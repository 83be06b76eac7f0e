import { describe, expect, test } from 'bun:test';
import { auditDocument } from '../../src/report/json.ts';
import { MAGIC } from './helpers/procs.ts';
import { HOST, quietRow, row } from './helpers/audited.ts';

const TIME = new Date('2026-11-21T06:20:45.204Z');

/** The document as a consumer sees it: through JSON, as `audit --json` prints it. */
function doc(rows = [row()]) {
  return JSON.parse(JSON.stringify(auditDocument(TIME, HOST, rows))) as Record<string, any>;
}

describe('auditDocument field names (a contract: README, audit --json)', () => {
  test('top level: time, host, containers', () => {
    expect(Object.keys(doc()).sort()).toEqual(['containers', 'host', 'time']);
  });

  test('time is ISO 8601 UTC', () => {
    expect(doc().time).toBe('2026-11-21T06:20:45.204Z');
  });

  test('host: hostname, cpus, load, memory', () => {
    const d = doc();
    expect(Object.keys(d.host).sort()).toEqual(['cpus', 'hostname', 'load', 'memory']);
    expect(d.host).toEqual({
      hostname: 'docker-host-1',
      cpus: 2,
      load: [0.52, 0.41, 0.3],
      memory: { totalBytes: 25_274_793_984, availableBytes: 20_000_000_000 },
    });
  });

  test('a container: exactly the contract fields (plus labels, layout and problems)', () => {
    const [c] = doc().containers;
    expect(Object.keys(c).sort()).toEqual(
      [
        'id',
        'name',
        'image',
        'state',
        'status',
        'reasons',
        'pids',
        'processes',
        'duplicates',
        'cpuPercent',
        'cpuWindowSeconds',
        'memoryBytes',
        'memoryLimitBytes',
        'labels',
        'layout',
        'policy',
        'problems',
      ].sort(),
    );
    expect(Object.keys(c.pids).sort()).toEqual(['current', 'max', 'source']);
    expect(Object.keys(c.processes).sort()).toEqual(['flavor', 'matching', 'orphans', 'source', 'total', 'zombies']);
    for (const d of c.duplicates) expect(Object.keys(d).sort()).toEqual(['command', 'count', 'pids']);
  });

  test('a container: the values for the flooded MetaMCP table', () => {
    const [c] = doc().containers;
    expect(c).toMatchObject({
      id: 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8',
      name: 'metamcp',
      image: 'ghcr.io/metatool-ai/metamcp:latest',
      state: 'running',
      status: 'critical',
      pids: { current: 199, max: 250, source: 'cgroup-v1' },
      // 9 npm exec trees and the claude-flow server (PID 93) running from the npx cache under PID 1
      processes: { total: 33, matching: 10, orphans: 1, zombies: 1, source: 'ps', flavor: 'busybox' },
      cpuPercent: 12.5,
      memoryBytes: 708_608,
      memoryLimitBytes: 25_274_793_984,
      labels: { 'com.docker.compose.service': 'metamcp' },
      problems: [],
    });
    expect(c.reasons[0]).toBe('33 processes > max-procs 15');
    expect(c.duplicates[0]).toEqual({ command: MAGIC.npm, count: 3, pids: [16, 133, 215] });
    expect(c.duplicates).toHaveLength(4);
  });

  test('unknown figures are null, not missing', () => {
    const [c] = doc([row({ table: null, stats: null, pids: { current: null, max: null, source: 'none' } })]).containers;
    expect(c.pids).toEqual({ current: null, max: null, source: 'none' });
    expect(c.processes).toEqual({ total: null, matching: null, orphans: null, zombies: null, source: 'none' });
    expect(c.cpuPercent).toBeNull();
    expect(c.memoryBytes).toBeNull();
    expect(c.memoryLimitBytes).toBeNull();
    expect(c.duplicates).toEqual([]);
  });

  test('stats present but CPU unknown: cpuPercent null, memory still there', () => {
    const [c] = doc([row({ stats: { cpuPercent: null, memoryBytes: 1024, memoryLimitBytes: null, apiPids: { current: null, max: null } } })]).containers;
    expect([c.cpuPercent, c.memoryBytes, c.memoryLimitBytes]).toEqual([null, 1024, null]);
  });

  test('the host /proc fallback reports its source and why', () => {
    const [c] = doc([row({ table: { procs: [], source: 'host-proc', fallbackReason: 'no ps in the image' } })]).containers;
    expect(c.processes).toEqual({ total: 0, matching: 0, orphans: 0, zombies: 0, source: 'host-proc', fallbackReason: 'no ps in the image' });
  });

  test('the engine\'s internals (initPid, running, cgroupDir, apiPids) are not in the document', () => {
    const text = JSON.stringify(auditDocument(TIME, HOST, [row()]));
    for (const key of ['initPid', 'running', 'cgroupDir', 'apiPids']) expect(text).not.toContain(`"${key}":`);
  });

  test('several containers keep their given order; none gives an empty list', () => {
    expect(doc([quietRow('b'), quietRow('a')]).containers.map((c: { name: string }) => c.name)).toEqual(['b', 'a']);
    expect(doc([]).containers).toEqual([]);
  });
});
