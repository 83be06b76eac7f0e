import { describe, expect, test } from 'bun:test';
import { auditTable, humanBytes, oneLine } from '../../src/report/table.ts';
import { metamcpProcs } from './helpers/procs.ts';
import { quietRow, row } from './helpers/audited.ts';

describe('oneLine', () => {
  test('a plain line is unchanged', () => {
    expect(oneLine('npm exec @21st-dev/magic@latest')).toBe('npm exec @21st-dev/magic@latest');
  });

  test('newlines and tabs become visible escapes, so a row stays one row', () => {
    expect(oneLine('node -e "a()\nb()"\tx')).toBe('node -e "a()\\nb()"\\tx');
    expect(oneLine('a\r\nb')).toBe('a?\\nb');
  });

  test('other control bytes (NUL, ESC, DEL) become "?": no terminal escape sequences get through', () => {
    expect(oneLine('a\x00b\x1b[31mred\x7f')).toBe('a?b?[31mred?');
  });

  test('C1 controls too: U+009B is the 8-bit CSI, which some terminals act on as on ESC [', () => {
    expect(oneLine('a\u009b2Jb\u0085c\u009d0;t\u009c')).toBe('a?2Jb?c?0;t?');
    expect(oneLine('café ü')).toBe('café ü'); // U+00A0 and up are text
  });

  test('UTF-8 is kept', () => {
    const line = metamcpProcs().find((p) => p.pid === 92)!.command;
    expect(oneLine(line)).toBe(line);
    expect(line).toContain('東京');
  });

  test('long lines are cut to max characters, ending in an ellipsis', () => {
    const long = metamcpProcs().find((p) => p.pid === 93)!.command;
    expect(long.length).toBeGreaterThan(160);
    const cut = oneLine(long);
    expect(cut).toHaveLength(160);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
  });

  test('exactly max characters is not cut; a custom max is honoured', () => {
    expect(oneLine('x'.repeat(160))).toBe('x'.repeat(160));
    expect(oneLine('abcdef', 4)).toBe('abc…');
  });

  test('escapes count toward the length (the cut applies to what is shown)', () => {
    expect(oneLine('\n'.repeat(100))).toHaveLength(160);
  });
});

describe('humanBytes', () => {
  test.each([
    [0, '0B'],
    [1, '1B'],
    [1023, '1023B'],
    [1024, '1.0KiB'],
    [1536, '1.5KiB'],
    [10 * 1024, '10KiB'],
    [708_608, '692KiB'], // the fixture container's memory: 708608 / 1024 = 692
    [667_648, '652KiB'],
    [5 * 1024 * 1024, '5.0MiB'],
    [25_274_793_984, '24GiB'], // 23.54 GiB, 10 or more: whole units
    [2 * 1024 ** 4, '2.0TiB'],
    [2048 * 1024 ** 4, '2048TiB'], // TiB is the largest unit
  ])('%p -> %p', (n, text) => {
    expect(humanBytes(n)).toBe(text);
  });

  test('just below the next unit rounds up into it, never to "1024KiB"', () => {
    expect(humanBytes(1024 * 1024 - 1)).toBe('1.0MiB');
    expect(humanBytes(1024 ** 3 - 1)).toBe('1.0GiB');
  });
});

describe('auditTable', () => {
  test('no containers', () => {
    expect(auditTable([])).toBe('no containers selected\n');
  });

  test('header, then worst first; ties by name', () => {
    const warn = quietRow('warned', { pids: { current: 1, max: null, source: 'cgroup-v1' } });
    const lines = auditTable([quietRow('zeta'), quietRow('alpha'), warn, row()]).split('\n');
    const statusAndName = lines.filter((l) => !l.startsWith('    ') && l !== '').map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    expect(statusAndName).toEqual(['STATUS CONTAINER', 'CRITICAL metamcp', 'WARN warned', 'OK alpha', 'OK zeta']);
  });

  test('the MetaMCP row: counts, pids, CPU, memory, sources; reasons indented below', () => {
    const text = auditTable([row()]);
    const [header, line, ...rest] = text.split('\n');
    expect(header!.split(/\s+/)).toEqual(['STATUS', 'CONTAINER', 'PROCS', 'MATCH', 'DUPS', 'ZOMB', 'TASKS', 'CPU%', 'MEM', 'SOURCE']);
    expect(line!.split(/\s+/)).toEqual(['CRITICAL', 'metamcp', '33', '10', '5', '1', '199/250', '12.5', '692KiB', 'ps/cgroup-v1']);
    expect(rest[0]).toBe('    - 33 processes > max-procs 15');
    expect(text.endsWith('\n')).toBe(true);
  });

  test('columns line up', () => {
    const lines = auditTable([row(), quietRow('a-much-longer-container-name')]).split('\n').filter((l) => l && !l.startsWith('    '));
    // every column after the first starts at the same offset in every row
    for (let n = 1; n <= 9; n++) {
      const offsets = lines.map((l) => new RegExp(`^(?:\\S+\\s+){${n}}`).exec(l)![0].length);
      expect(new Set(offsets).size).toBe(1);
    }
  });

  test('unknown figures: dashes, "?" for pids.current, "max" for no limit', () => {
    const unknown = row({ table: null, stats: null, pids: { current: null, max: null, source: 'none' } });
    const line = auditTable([unknown]).split('\n')[1]!;
    expect(line.split(/\s+/)).toEqual(['WARN', 'metamcp', '-', '-', '-', '-', '?/max', '-', '-', 'none/none']);
  });

  test('a reason or problem holding a newline stays on one line', () => {
    const procs = [...metamcpProcs(), { pid: 400, ppid: 1, command: 'npm exec evil\nINJECTED' }, { pid: 401, ppid: 1, command: 'npm exec evil\nINJECTED' }];
    const text = auditTable([row({ table: { procs, source: 'ps' }, problems: ['stats: engine said\nsomething'] })]);
    expect(text).toContain('    - 2 x duplicate: npm exec evil\\nINJECTED');
    expect(text).toContain('    ! stats: engine said\\nsomething');
    expect(text.split('\n').some((l) => l.startsWith('INJECTED') || l.startsWith('something'))).toBe(false);
  });
});
