// The idle rule's inputs: counter parsers on captures (test/fixtures/reap/README.md), the sample
// thinning, the state file's "usage" section, and the reap settings.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBlkioServiceBytes, parseIoStat, parseNetDev } from '../../src/observe/io-counters-parse.ts';
import { usageFromStats } from '../../src/observe/io-counters.ts';
import { judgeIdle, keepSamples, MAX_SAMPLES_PER_WINDOW, type UsageSample } from '../../src/decide/idle.ts';
import { parseDuration } from '../../src/decide/duration.ts';
import { parseState, pruneState, StateStore } from '../../src/state/state-file.ts';
import { KEEP_USAGE_MS } from '../../src/state/usage-samples.ts';
import { resolveSettings } from '../../src/cli/settings.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dir, '..', 'fixtures', 'reap', name), 'utf8');

describe('counter parsers', () => {
  test('v1 blkio: Read + Write, never the Sync/Async/Total sums', () => {
    expect(parseBlkioServiceBytes(fixture('runc-example-blkio.io_service_bytes'))).toBe(1282048 + 2195456);
    expect(parseBlkioServiceBytes(fixture('v1-root-blkio.throttle.io_service_bytes_recursive'))).toBe(0);
    expect(parseBlkioServiceBytes('')).toBeNull();
  });
  test('v2 io.stat: rbytes + wbytes of every device (format of the kernel\'s cgroup-v2.rst)', () => {
    expect(parseIoStat('8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n')).toBe(
      1459200 + 314773504 + 90430464 + 299008000,
    );
    expect(parseIoStat('')).toBe(0);
  });
  test('net/dev: every interface but lo; --network none has only lo: 0', () => {
    expect(parseNetDev(fixture('host-net-dev'))).toBe(1626867498 + 2805714);
    expect(parseNetDev(fixture('network-none-net-dev'))).toBe(0);
    expect(parseNetDev('garbage')).toBeNull();
  });
  test("the engine's stats: CPU, read/write of blkio, rx+tx of every network", () => {
    const s = usageFromStats(
      {
        cpu_stats: { cpu_usage: { total_usage: 123 } },
        blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 10 }, { op: 'Write', value: 5 }, { op: 'Total', value: 15 }] },
        networks: { eth0: { rx_bytes: 7, tx_bytes: 3 } },
      },
      1000,
    );
    expect(s).toEqual({ t: 1000, cpuNs: 123, blockBytes: 15, netBytes: 10 });
    expect(usageFromStats({ blkio_stats: { io_service_bytes_recursive: null } }, 1)).toBeNull();
  });
});

const sample = (t: number, cpuNs = 0): UsageSample => ({ t, cpuNs, blockBytes: 0, netBytes: 0 });

describe('keepSamples', () => {
  test('a monitor at 0.25 s with a 5-minute window keeps ~MAX_SAMPLES_PER_WINDOW samples, enough to judge', () => {
    const window = 300_000;
    let kept: UsageSample[] = [];
    for (let t = 0; t <= 900_000; t += 250) kept = keepSamples(kept, sample(t), window);
    expect(kept.length).toBeLessThanOrEqual(MAX_SAMPLES_PER_WINDOW + 2);
    expect(judgeIdle([...kept, sample(900_000)], 900_000, window, 0.5).idle).toBe(true);
  });
  test('a counter reset is kept at once', () => {
    const kept = keepSamples([sample(0, 5e9)], sample(10, 1), 300_000);
    expect(kept.map((s) => s.cpuNs)).toEqual([5e9, 1]);
  });
});

describe('state file: the usage section', () => {
  const id = 'a'.repeat(64);
  test('a version-1 file without it still parses; with it, it round-trips', () => {
    expect(parseState('{"version":1,"containers":{}}')).toEqual({ version: 1, containers: {} });
    const doc = parseState(JSON.stringify({ version: 1, containers: {}, usage: { [id]: { name: 'r', startedAt: 5, samples: [[1, 2, 3, 4]] } } }))!;
    expect(doc.usage![id]!.samples).toEqual([{ t: 1, cpuNs: 2, blockBytes: 3, netBytes: 4 }]);
  });
  test('malformed samples are dropped, not the file', () => {
    const doc = parseState(JSON.stringify({ version: 1, containers: {}, usage: { [id]: { name: 'r', startedAt: 5, samples: [[1, 'x', 3, 4], [2, 2, 3, 4]] }, bad: {} } }))!;
    expect(doc.usage![id]!.samples.map((s) => s.t)).toEqual([2]);
  });
  test('pruned by age', () => {
    const now = 10 * KEEP_USAGE_MS;
    const doc = pruneState({ version: 1, containers: {}, usage: { [id]: { name: 'r', startedAt: 1, samples: [sample(now - KEEP_USAGE_MS - 1), sample(now - 1)] } } }, now);
    expect(doc.usage![id]!.samples.map((s) => s.t)).toEqual([now - 1]);
  });
  test('StateStore: recorded, read back for the same start only, forgotten when the container is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-usage-'));
    try {
      const store = new StateStore(join(dir, 'state.json'), (m) => {
        throw new Error(m);
      });
      const other = 'b'.repeat(64);
      const now = Date.now();
      store.recordUsage([{ id, name: 'a', startedAt: 1, sample: sample(now) }, { id: other, name: 'b', startedAt: 1, sample: sample(now) }], new Set([id, other]), 60_000);
      expect(store.usageSamples([{ id, startedAt: 1 }]).get(id)).toEqual([sample(now)]);
      expect(store.usageSamples([{ id, startedAt: 2 }]).get(id)).toEqual([]); // restarted since
      store.recordUsage([], new Set([id]), 60_000);
      expect(store.usageSamples([{ id: other, startedAt: 1 }]).get(other)).toEqual([]);
      const text = readFileSync(join(dir, 'state.json'), 'utf8');
      expect(JSON.parse(text).version).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reap settings', () => {
  const r = (flags: Record<string, unknown>, command: 'reap' | 'audit' | 'monitor' = 'reap') => resolveSettings(command, flags, {}, {});
  test('defaults: mcpmon.pid known, age/idle/pile off, 0.5 % CPU', () => {
    const s = r({});
    expect(s.ownerLabels).toEqual([{ key: 'mcpmon.pid' }]);
    expect([s.maxAgeMs, s.idleForMs, s.maxPerGroup]).toEqual([undefined, undefined, undefined]);
    expect(s.idleCpuPercent).toBe(0.5);
    expect(s.remove).toBe(false);
  });
  test('--owner-label KEY and KEY=REGEX, added to mcpmon.pid', () => {
    const s = r({ 'owner-label': ['x.pid', 'mcp-session=^mcp-session-\\d+-(\\d+)-'] });
    expect(s.ownerLabels.map((l) => [l.key, l.pattern?.source])).toEqual([
      ['x.pid', undefined],
      ['mcp-session', '^mcp-session-\\d+-(\\d+)-'],
      ['mcpmon.pid', undefined],
    ]);
  });
  test('malformed values are usage errors', () => {
    for (const flags of [{ 'max-age': 'soon' }, { 'idle-for': '-1' }, { 'owner-label': ['k=('] }, { 'owner-label': ['k=nogroup'] }, { 'max-per-group': '0' }, { 'idle-cpu': '0' }]) {
      expect(() => r(flags)).toThrow();
    }
  });
  test('durations', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('0')).toBeNull();
    expect(r({ 'max-age': '1h', 'idle-for': '5m' })).toMatchObject({ maxAgeMs: 3_600_000, idleForMs: 300_000 });
  });
  test('--reap and --remove belong to monitor; audit takes the flood rules but not --remove', () => {
    expect(r({ reap: true, remove: true }, 'monitor')).toMatchObject({ reap: true, remove: true });
    expect(r({ 'max-per-group': '3' }, 'audit').maxPerGroup).toBe(3);
  });
});
