import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promText, promTextFailed, writeFileAtomic } from '../../src/report/prom.ts';
import { VERSION } from '../../src/version.ts';
import { quietRow, row } from './helpers/audited.ts';

const NOW_MS = Date.UTC(2026, 10, 21, 6, 20, 45, 999);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): HELP and TYPE once per
 * family and before its samples, samples of a family together, valid names, label values with only
 * \\ \" \n escapes, a float value, a final newline. Throws on the first violation.
 */
function parseExposition(text: string): { help: Map<string, string>; types: Map<string, string>; samples: Sample[] } {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const closed = new Set<string>();
  let current: string | null = null;
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') throw new Error('empty line');
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      const map = kind === 'HELP' ? help : types;
      if (map.has(name)) throw new Error(`second ${kind} for ${name}`);
      if (samples.some((s) => s.name === name)) throw new Error(`${kind} for ${name} after its samples`);
      if (kind === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type ${rest}`);
      map.set(name, rest);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    if (current !== name) {
      if (closed.has(name)) throw new Error(`samples of ${name} are not together`);
      if (current) closed.add(current);
      current = name;
    }
    if (!types.has(name)) throw new Error(`sample ${name} without TYPE`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const lm = re.exec(labelText);
        if (!lm) throw new Error(`bad labels: {${labelText}}`);
        labels[lm[1]!] = lm[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        pos = re.lastIndex;
      }
    }
    const value = Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value ${valueText}`);
    samples.push({ name, labels, value });
  }
  return { help, types, samples };
}

const valueOf = (samples: Sample[], name: string, containerName = 'metamcp') =>
  samples.find((s) => s.name === name && s.labels['name'] === containerName)?.value;

describe('the exposition reader used by these tests', () => {
  // So a passing promText test means something: the reader does reject broken text.
  test.each([
    ['no final newline', '# TYPE a gauge\na 1'],
    ['a sample without TYPE', 'a 1\n'],
    ['an unescaped quote in a label', '# TYPE a gauge\na{name="x"y"} 1\n'],
    ['an escape other than backslash, quote or n', '# TYPE a gauge\na{name="x\\t"} 1\n'],
    ['TYPE twice', '# TYPE a gauge\n# TYPE a gauge\na 1\n'],
    ['HELP after samples', '# TYPE a gauge\na 1\n# HELP a late\n'],
    ['samples of one family split', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n'],
    ['a value that is not a number', '# TYPE a gauge\na null\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});

describe('promText', () => {
  test('valid exposition: every family has HELP and TYPE, counters end in _total, samples follow them', () => {
    const { help, types, samples } = parseExposition(promText([row(), quietRow('other')], NOW_MS));
    expect(types.size).toBe(23); // with the limit verdict and the growth forecast (README: Investigating a container)
    for (const [name, type] of types) {
      expect(name.startsWith('pidwarden_')).toBe(true);
      expect(type).toBe(name.endsWith('_total') ? 'counter' : 'gauge');
      expect(help.get(name)).toBeTruthy();
    }
    expect(samples.length).toBeGreaterThan(0);
  });

  test("pidwarden's own: up, build info with the version, engine reachable, success per collector", () => {
    const { samples } = parseExposition(promText([row(), quietRow('other', { problems: ['stats: engine said 500'] })], NOW_MS));
    const own = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(own('pidwarden_up')).toBe(1);
    expect(own('pidwarden_build_info', { version: VERSION })).toBe(1);
    expect(own('pidwarden_engine_up')).toBe(1);
    expect(own('pidwarden_collector_success', { collector: 'engine' })).toBe(1);
    expect(own('pidwarden_collector_success', { collector: 'processes' })).toBe(1);
    expect(own('pidwarden_collector_success', { collector: 'stats' })).toBe(0);
  });

  test('no label carries a PID or a command line', () => {
    const { samples } = parseExposition(promText([row()], NOW_MS));
    const keys = new Set(samples.flatMap((s) => Object.keys(s.labels)));
    expect([...keys].sort()).toEqual(['collector', 'id', 'image', 'name', 'version']);
  });

  test('the figures of the flooded MetaMCP container', () => {
    const { samples } = parseExposition(promText([row()], NOW_MS));
    expect(valueOf(samples, 'pidwarden_container_status')).toBe(2); // critical
    expect(valueOf(samples, 'pidwarden_container_processes')).toBe(33);
    expect(valueOf(samples, 'pidwarden_container_runaway_trees')).toBe(10);
    // beyond the first of each command line: magic 2 extra, three packages 1 extra each
    expect(valueOf(samples, 'pidwarden_container_duplicate_trees')).toBe(5);
    expect(valueOf(samples, 'pidwarden_container_zombies')).toBe(1);
    expect(valueOf(samples, 'pidwarden_container_tasks')).toBe(199);
    expect(valueOf(samples, 'pidwarden_container_pids_limit')).toBe(250);
    expect(valueOf(samples, 'pidwarden_container_cpu_percent')).toBe(12.5);
    expect(valueOf(samples, 'pidwarden_container_memory_bytes')).toBe(708_608);
    expect(valueOf(samples, 'pidwarden_container_memory_limit_bytes')).toBe(25_274_793_984);
  });

  test('status values: ok 0, warn 1, critical 2', () => {
    const warn = quietRow('dup', {
      table: { procs: [...quietRow('x').obs.table!.procs, { pid: 8, ppid: 1, command: 'npm exec figma-mcp' }], source: 'ps' },
    });
    expect(warn.assessment.status).toBe('warn');
    const { samples } = parseExposition(promText([row(), warn, quietRow('fine')], NOW_MS));
    expect(valueOf(samples, 'pidwarden_container_status', 'metamcp')).toBe(2);
    expect(valueOf(samples, 'pidwarden_container_status', 'dup')).toBe(1);
    expect(valueOf(samples, 'pidwarden_container_status', 'fine')).toBe(0);
  });

  test("labels: the short (12-character) ID, the name and the image, as cAdvisor's", () => {
    const { samples } = parseExposition(promText([row()], NOW_MS));
    expect(samples.find((s) => s.name === 'pidwarden_container_processes')!.labels).toEqual({
      id: 'db24ad411a5b',
      name: 'metamcp',
      image: 'ghcr.io/metatool-ai/metamcp:latest',
    });
  });

  test('label values escape backslash, double quote and newline', () => {
    const text = promText([quietRow('x', { info: { name: 'we"ird\\name\nline' } })], NOW_MS);
    expect(text).toContain('name="we\\"ird\\\\name\\nline"');
    const { samples } = parseExposition(text);
    expect(samples.find((s) => s.name === 'pidwarden_container_processes')!.labels['name']).toBe('we"ird\\name\nline');
  });

  test('UTF-8 in a label value is kept as is', () => {
    const { samples } = parseExposition(promText([quietRow('x', { info: { name: 'café-東京' } })], NOW_MS));
    expect(samples.find((s) => s.name === 'pidwarden_container_processes')!.labels['name']).toBe('café-東京');
  });

  test('null values are omitted, not written as 0 or NaN; HELP and TYPE stay', () => {
    const unknown = row({ table: null, stats: null, pids: { current: null, max: null, source: 'none' } });
    const text = promText([unknown], NOW_MS);
    const { types, samples } = parseExposition(text);
    expect(samples.filter((s) => s.name.startsWith('pidwarden_container_')).map((s) => s.name)).toEqual(['pidwarden_container_healthy', 'pidwarden_container_status']);
    expect(types.has('pidwarden_container_pids_limit')).toBe(true);
    expect(text).not.toContain('NaN');
    expect(text).not.toContain('null');
  });

  test('no pids limit: pids_max absent for that container only', () => {
    const unlimited = quietRow('unlimited', { pids: { current: 12, max: null, source: 'cgroup-v1' } });
    const { samples } = parseExposition(promText([row(), unlimited], NOW_MS));
    expect(valueOf(samples, 'pidwarden_container_pids_limit', 'unlimited')).toBeUndefined();
    expect(valueOf(samples, 'pidwarden_container_tasks', 'unlimited')).toBe(12);
    expect(valueOf(samples, 'pidwarden_container_pids_limit', 'metamcp')).toBe(250);
  });

  test('the audit timestamp in whole seconds', () => {
    const { samples } = parseExposition(promText([], NOW_MS));
    expect(samples.find((s) => s.name === 'pidwarden_audit_timestamp_seconds')).toEqual({ name: 'pidwarden_audit_timestamp_seconds', labels: {}, value: Math.floor(NOW_MS / 1000) });
  });

  test('a failed audit: pidwarden_up 0, no container figures left to linger', () => {
    const { samples } = parseExposition(promTextFailed(NOW_MS, false));
    expect(samples.find((s) => s.name === 'pidwarden_up')!.value).toBe(0);
    expect(samples.find((s) => s.name === 'pidwarden_engine_up')!.value).toBe(0);
    expect(samples.some((s) => s.name.startsWith('pidwarden_container_'))).toBe(false);
  });

  test('several containers: one sample each per metric, grouped by metric', () => {
    const rows = [row(), quietRow('a'), quietRow('b')];
    const { samples } = parseExposition(promText(rows, NOW_MS));
    const status = samples.filter((s) => s.name === 'pidwarden_container_status');
    expect(status.map((s) => s.labels['name'])).toEqual(['metamcp', 'a', 'b']);
  });
});

describe('writeFileAtomic', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pidwarden-prom-test-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('writes the file and leaves no temp file behind', async () => {
    const path = join(dir, 'pidwarden.prom');
    const text = promText([row()], NOW_MS);
    await writeFileAtomic(path, text);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual(['pidwarden.prom']);
  });

  test('replaces an existing file whole', async () => {
    const path = join(dir, 'replace.prom');
    writeFileSync(path, 'old content that is longer than the new one\n'.repeat(20));
    await writeFileAtomic(path, 'new\n');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(dir).filter((f) => f.includes('replace'))).toEqual(['replace.prom']);
  });

  test('the file is world-readable (node_exporter may run as another user)', async () => {
    const path = join(dir, 'mode.prom');
    await writeFileAtomic(path, 'x\n');
    expect(statSync(path).mode & 0o044).toBe(0o044);
  });

  test('a failed rename removes the temp file and reports the error', async () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const target = join(sub, 'busy.prom');
    mkdirSync(target); // a non-empty directory where the file should go: rename fails
    writeFileSync(join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'text\n')).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(['busy.prom']);
  });

  test('a missing directory: the error surfaces, nothing is created', async () => {
    const path = join(dir, 'no-such-dir', 'x.prom');
    await expect(writeFileAtomic(path, 'x\n')).rejects.toThrow();
  });
});
