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
import { KEEP_USAGE_MS, serializeUsageSection } from '../../src/state/usage-samples.ts';
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
      'bridge',
    );
    expect(s).toEqual({ t: 1000, cpuNs: 123, blockBytes: 15, netBytes: 10 });
    expect(usageFromStats({ blkio_stats: { io_service_bytes_recursive: null } }, 1, 'bridge')).toBeNull();
  });
});

// `GET /v1.41/containers/{id}/stats?stream=false&one-shot=true` of `sleep 300` in busybox, verbatim:
// Docker 20.10.24 (cgroup v1) with --network host, and Podman 4.3.1's compat API with --network host.
const DOCKER20_NETWORK_HOST = `{"read":"2026-12-02T07:51:16.992450458Z","preread":"0001-01-01T00:00:00Z","pids_stats":{"current":1},"blkio_stats":{"io_service_bytes_recursive":[],"io_serviced_recursive":[],"io_queue_recursive":[],"io_service_time_recursive":[],"io_wait_time_recursive":[],"io_merged_recursive":[],"io_time_recursive":[],"sectors_recursive":[]},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":23369227,"percpu_usage":[6468286,16900941],"usage_in_kernelmode":10000000,"usage_in_usermode":0},"system_cpu_usage":118590850000000,"online_cpus":2,"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{"usage":376832,"max_usage":3567616,"stats":{"active_anon":4096,"active_file":0,"cache":0,"dirty":0,"hierarchical_memory_limit":9223372036854771712,"hierarchical_memsw_limit":9223372036854771712,"inactive_anon":45056,"inactive_file":0,"mapped_file":0,"pgfault":1036,"pgmajfault":0,"pgpgin":751,"pgpgout":739,"rss":49152,"rss_huge":0,"total_active_anon":4096,"total_active_file":0,"total_cache":0,"total_dirty":0,"total_inactive_anon":45056,"total_inactive_file":0,"total_mapped_file":0,"total_pgfault":1036,"total_pgmajfault":0,"total_pgpgin":751,"total_pgpgout":739,"total_rss":49152,"total_rss_huge":0,"total_unevictable":0,"total_writeback":0,"unevictable":0,"writeback":0},"limit":25276059648},"name":"/cap-host","id":"f00759387f989067fe7e651356c1b736244da7c75d98bd1bd90e743659c2fa16"}`;
const PODMAN43_NETWORK_HOST = `{"read":"2026-12-02T07:52:07.787840315Z","preread":"0001-01-01T00:00:00Z","pids_stats":{"current":1},"blkio_stats":{"io_service_bytes_recursive":[],"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":37218581,"percpu_usage":[0,37218581],"usage_in_kernelmode":8000000,"usage_in_usermode":29218581},"system_cpu_usage":93509093658252,"online_cpus":2,"cpu":0,"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"cpu":0,"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{"usage":274432,"limit":25276059648},"name":"frosty_joliot","Id":"d53e97c89dc12b2f42b4e09cc76e25eee17a39952ca93446458c2bef18ae324e","networks":{"network":{"rx_bytes":0,"rx_packets":0,"rx_errors":0,"rx_dropped":0,"tx_bytes":0,"tx_packets":0,"tx_errors":0,"tx_dropped":0}}}`;

describe("the engine's stats without the container's network traffic", () => {
  // Docker omits `networks` for these modes (--network none too: the same document without it)
  const docker = JSON.parse(DOCKER20_NETWORK_HOST) as Parameters<typeof usageFromStats>[0];
  const podman = JSON.parse(PODMAN43_NETWORK_HOST) as Parameters<typeof usageFromStats>[0];
  test('Docker, --network host: no `networks`; unknown, not 0 bytes (the idle rule is not applied)', () => {
    expect(docker.networks).toBeUndefined();
    expect(usageFromStats(docker, 1000, 'host')).toBeNull();
  });
  test("Podman, --network host: a placeholder of zeros; unknown too", () => {
    expect(podman.networks).toEqual({ network: expect.objectContaining({ rx_bytes: 0, tx_bytes: 0 }) });
    expect(usageFromStats(podman, 1000, 'host')).toBeNull();
  });
  test('no `networks` for a container on a network of its own (bridge, container:X, or the mode unknown): unknown', () => {
    for (const mode of ['bridge', 'default', 'container:' + 'f'.repeat(64), '']) expect(usageFromStats(docker, 1000, mode)).toBeNull();
  });
  // Podman 4.3's handler always writes that one entry, zeros when libpod read no network namespace
  // of the container's own: getContainerNetNS returns "" for --network ns:<path> (the spec joins
  // the path; the container holds no NetNS) and for container:X of a host-network X, and
  // getContainerNetIO then gives no statistics (libpod/networking_linux.go, v4.3.1;
  // pkg/api/handlers/compat/containers_stats.go fills the "network" entry with zeros). Read as 0
  // bytes, a busy server in such a container that uses little CPU was judged idle and stopped.
  test('Podman 4.3, --network ns:<path> or container:X: the same placeholder; unknown, not 0 bytes', () => {
    for (const mode of ['ns:/run/netns/shared', 'container:' + 'f'.repeat(64)]) expect(usageFromStats(podman, 1000, mode)).toBeNull();
    // a real count in that entry (container:X of a bridge X, whose interfaces libpod reads) is kept
    const counted = { ...podman, networks: { network: { rx_bytes: 700, tx_bytes: 300 } } };
    expect(usageFromStats(counted, 1000, 'container:' + 'f'.repeat(64))).toEqual({ t: 1000, cpuNs: 37218581, blockBytes: 0, netBytes: 1000 });
  });
  test('--network none: no interface but lo, 0 bytes is right', () => {
    expect(usageFromStats(docker, 1000, 'none')).toEqual({ t: 1000, cpuNs: 23369227, blockBytes: 0, netBytes: 0 });
    expect(usageFromStats(podman, 1000, 'none')).toEqual({ t: 1000, cpuNs: 37218581, blockBytes: 0, netBytes: 0 });
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
  test('samples with the host uptime (5 numbers) round-trip; 4-number samples of older files still parse', () => {
    const doc = parseState(JSON.stringify({ version: 1, containers: {}, usage: { [id]: { name: 'r', startedAt: 5, samples: [[1, 2, 3, 4], [6, 7, 8, 9, 10]] } } }))!;
    expect(doc.usage![id]!.samples).toEqual([{ t: 1, cpuNs: 2, blockBytes: 3, netBytes: 4 }, { t: 6, cpuNs: 7, blockBytes: 8, netBytes: 9, upMs: 10 }]);
    expect(serializeUsageSection(doc.usage!)[id]).toEqual({ name: 'r', startedAt: 5, samples: [[1, 2, 3, 4], [6, 7, 8, 9, 10]] });
  });
  test('a clock step is kept at once, like a counter reset (5 s apart on the wall clock, 60 s on the uptime)', () => {
    const kept = keepSamples([{ ...sample(0, 5), upMs: 1000 }], { ...sample(5000, 6), upMs: 61_000 }, 300_000);
    expect(kept.map((s) => s.t)).toEqual([0, 5000]);
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
