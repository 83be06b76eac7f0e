// /proc parsers against verbatim captures (test/fixtures/ps, copied from the shared corpus).
import { describe, expect, test } from 'bun:test';
import { parseCmdline, parseNsPid, parseProcStats, parseStatusThreads } from '../../src/observe/proc-stat.ts';
import { BB135, PS_VARIANTS, psFixture, TOYBOX, truthOf } from './helpers/fixtures.ts';

/** What `cat /proc/<a>/stat /proc/<b>/stat …` prints: the captured files, one after the other. */
function catOfStatFiles(variant: string): { text: string; pids: number[] } {
  const files = Object.entries(truthOf(variant).proc_stat_files);
  return { text: files.map(([name]) => psFixture(variant, `${name}.txt`)).join(''), pids: files.map(([, f]) => f.pid) };
}

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

describe('parseProcStats on concatenated cat /proc/<pid>/stat output', () => {
  for (const variant of PS_VARIANTS) {
    test(variant, () => {
      const { text, pids } = catOfStatFiles(variant);
      const records = parseProcStats(text);
      expect(records.map((r) => r.pid)).toEqual(pids);
      const truth = new Map(truthOf(variant).processes.map((p) => [p.pid, p]));
      for (const r of records) {
        const p = truth.get(r.pid)!;
        expect(r).toEqual({
          pid: p.pid,
          comm: p.comm,
          state: p.state,
          ppid: p.ppid,
          threads: p.threads,
          startTicks: p.start_ticks_since_boot,
        });
      }
      const evil = records.find((r) => r.comm.includes(')'))!;
      expect(evil).toMatchObject({ comm: 'evil) Z 1 (tail', state: 'S', ppid: 1 });
      expect(records.find((r) => r.state === 'Z')).toMatchObject({ comm: 'sh', ppid: 1, threads: 1 });
      expect(records.find((r) => r.comm === 'npm exec @21st-')!.threads).toBe(11);
    });
  }

  test('the record of the fixture quoted in the brief: split at the LAST )', () => {
    const text = psFixture(BB135, 'cat-proc-104-stat.txt');
    expect(text.startsWith('104 (evil) Z 1 (tail) S 1 1 1 0 -1 ')).toBe(true);
    expect(parseProcStats(text)).toEqual([{ pid: 104, comm: 'evil) Z 1 (tail', state: 'S', ppid: 1, threads: 3, startTicks: 128496 }]);
  });

  const tail = (ppid: number, threads: number, start: number) =>
    `${ppid} 1 1 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 ${threads} 0 ${start} 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0`;

  test('comm holding a newline, parentheses, or nothing; records without a trailing newline', () => {
    const text = [
      `7 (a\nb) S ${tail(1, 2, 300)}`,
      `8 ((x)) R ${tail(7, 1, 301)}`,
      `9 () D ${tail(0, 1, 302)}`,
      `10 ()))))))))))))))) T ${tail(9, 4, 303)}`,
    ].join('\n');
    expect(parseProcStats(text)).toEqual([
      { pid: 7, comm: 'a\nb', state: 'S', ppid: 1, threads: 2, startTicks: 300 },
      { pid: 8, comm: '(x)', state: 'R', ppid: 7, threads: 1, startTicks: 301 },
      { pid: 9, comm: '', state: 'D', ppid: 0, threads: 1, startTicks: 302 },
      { pid: 10, comm: ')))))))))))))))', state: 'T', ppid: 9, threads: 4, startTicks: 303 },
    ]);
  });

  test('a comm of 15 multi-byte characters is never longer than 15 characters', () => {
    expect(parseProcStats(`11 (ééééééé) S ${tail(1, 1, 5)}\n`)[0]!.comm).toBe('ééééééé');
  });

  test('lines that are not stat records are skipped, the rest still read', () => {
    const good = psFixture(BB135, 'cat-proc-18-stat.txt');
    const text = [
      'cat: /proc/4242/stat: No such file or directory',
      good.trimEnd(),
      '12 (cut off) S 1 1',
      '13 (no close paren S 1 1 1',
      '0 (pid zero) S ' + tail(1, 1, 1),
      'x (nope) S ' + tail(1, 1, 1),
      '14 (bad state) SS ' + tail(1, 1, 1),
      good,
    ].join('\n');
    expect(parseProcStats(text).map((r) => r.pid)).toEqual([18, 18]);
  });

  test('garbage never throws', () => {
    for (const text of ['', '\n', ')', '1 (', '1 ()', '99999999999999999999 (x) S ' + tail(1, 1, 1), '\u0000'.repeat(50)]) {
      expect(() => parseProcStats(text)).not.toThrow();
    }
    expect(parseProcStats(undefined as unknown as string)).toEqual([]);
    let seed = 3;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const parts = ['1', '23', ' ', '(', ')', 'S', 'Z', '\n', '-1', 'é', '0'];
    for (let i = 0; i < 500; i++) {
      const records = parseProcStats(Array.from({ length: rand(120) }, () => parts[rand(parts.length)]!).join(''));
      for (const r of records) expect(r.pid > 0 && r.comm.length <= 15).toBe(true);
    }
  });
});

describe('genuine npm exec processes (_host-real-npm-exec)', () => {
  const TITLES: Record<number, string> = {
    6724: 'npm exec sleepy-mcp mcp start',
    7030: 'npm exec sleepy-mcp --stdio',
    7034: 'npm exec cowsay',
    9743: 'npm x sleepy-mcp with-some-longer-args',
    9745: 'npm x sleepy-mcp',
    9962: 'npm exec sleep', // title longer than the argv area: cut to area - 1 bytes
  };

  /** Sections `=== PID n` of the capture: its stat line, status lines and od -c dump of cmdline. */
  function sections(file: string): Map<number, string> {
    const out = new Map<number, string>();
    for (const part of psFixture('_host-real-npm-exec', file).split(/^=== PID /m).slice(1)) {
      out.set(Number(part.slice(0, part.indexOf('\n'))), part);
    }
    return out;
  }

  /** od -c output back to bytes: 7-digit offset, then one 4-column field per byte. */
  function odBytes(section: string): Uint8Array {
    const escapes: Record<string, number> = { '\\0': 0, '\\a': 7, '\\b': 8, '\\f': 12, '\\n': 10, '\\r': 13, '\\t': 9, '\\v': 11 };
    const bytes: number[] = [];
    for (const line of section.split('\n').filter((l) => /^[0-7]{7}( |$)/.test(l))) {
      for (let at = 7; at < line.length; at += 4) {
        const field = line.slice(at, at + 4).trimStart();
        if (field === '') bytes.push(0x20);
        else if (field in escapes) bytes.push(escapes[field]!);
        else if (/^[0-7]{3}$/.test(field)) bytes.push(parseInt(field, 8));
        else bytes.push(field.charCodeAt(0));
      }
    }
    return Uint8Array.from(bytes);
  }

  for (const file of ['t+1min/proc-comm-stat-cmdline-status.txt', 't+76min/proc-comm-stat-cmdline-status.txt']) {
    describe(file, () => {
      const bySection = sections(file);
      const alive = [...bySection].filter(([, s]) => !s.includes('/stat: No such file'));

      test('parseProcStats picks exactly the stat lines out of the whole capture', () => {
        const records = parseProcStats(psFixture('_host-real-npm-exec', file));
        expect(records.map((r) => r.pid)).toEqual(alive.map(([pid]) => pid));
        expect(records.length).toBe(file.startsWith('t+1min') ? 9 : 15); // t+1min: the first three chains only
        for (const r of records) {
          const s = bySection.get(r.pid)!;
          expect(s).toContain(`Name:\t${r.comm}\n`);
          expect(s).toContain(`PPid:\t${r.ppid}\n`);
          expect(s).toContain(`State:\t${r.state} `);
          const threads = parseStatusThreads(s.slice(s.indexOf('/status')));
          if (threads !== null) expect(r.threads).toBe(threads);
        }
        expect(records.find((r) => r.pid === 6724)).toEqual({
          pid: 6724, comm: 'npm exec sleepy', state: 'S', ppid: 6721, threads: 11, startTicks: 60958,
        });
      });

      test('parseCmdline: titles are one argv string plus NUL padding; other argvs NUL-joined', () => {
        for (const [pid, s] of alive) {
          const bytes = odBytes(s);
          const stated = /cmdline(?: length)?: (\d+) bytes/.exec(s);
          expect(bytes.length).toBe(Number(stated![1]));
          const command = parseCmdline(bytes);
          if (TITLES[pid]) expect(command).toBe(TITLES[pid]!);
          else expect(command).toMatch(/^(sh -c '(sleepy-mcp|cowsay)'|node \/home\/app\/proj\/node_modules\/\.bin\/(sleepy-mcp|cowsay))( |$)/);
          expect(command).not.toContain('\0');
        }
        const npm = odBytes(bySection.get(6724)!);
        expect(npm.filter((b) => b === 0).length).toBe(15); // 44 bytes: 29 title + 15 NULs
        expect(parseCmdline(odBytes(bySection.get(6767)!))).toBe("sh -c 'sleepy-mcp' mcp start");
      });
    });
  }

  test('parseStatusThreads on a real status excerpt', () => {
    const s = sections('t+76min/proc-comm-stat-cmdline-status.txt').get(9962)!;
    expect(parseStatusThreads(s)).toBe(11);
    expect(parseStatusThreads('Name:\tx\n')).toBeNull();
    expect(parseStatusThreads('Threads:\tmany\n')).toBeNull();
  });
});

describe('parseCmdline', () => {
  for (const variant of PS_VARIANTS) {
    test(`${variant}: raw cmdline bytes of every process give argv joined by spaces`, () => {
      for (const p of truthOf(variant).processes) {
        expect(parseCmdline(hexBytes(p.cmdline_hex))).toBe(p.argv.join(' '));
      }
    });
  }

  test('UTF-8, runs of spaces and the empty argument survive', () => {
    const p = truthOf(TOYBOX).processes.find((t) => t.plan_id === 5 && t.role === 'node')!;
    expect(parseCmdline(hexBytes(p.cmdline_hex))).toBe('node /app/scripts/wörker.js --label café  ☕   naïve --city=東京  --emoji=🚀 --end');
  });

  test('string input, empty, zombie, interior empty arguments, invalid UTF-8', () => {
    expect(parseCmdline('a\0\0b\0')).toBe('a  b');
    expect(parseCmdline('npm exec x\0\0\0\0')).toBe('npm exec x');
    expect(parseCmdline('')).toBe('');
    expect(parseCmdline(new Uint8Array())).toBe('');
    expect(parseCmdline(Uint8Array.from([0x61, 0, 0, 0, 0x62, 0]))).toBe('a   b');
    expect(parseCmdline(Uint8Array.from([0x61, 0xff, 0x62, 0]))).toBe('a\uFFFDb');
  });
});

describe('parseNsPid', () => {
  // The corpus has no full status file; the line's kernel format is `NSpid:\t<outer>\t…\t<inner>`.
  test('outermost first, innermost (the container PID) last', () => {
    const status = 'Name:\tnode\nTgid:\t402117\nNgid:\t0\nPid:\t402117\nPPid:\t402090\nNSpid:\t402117\t17\nNSpgid:\t402090\t1\n';
    expect(parseNsPid(status)).toEqual([402117, 17]);
    expect(parseNsPid('NSpid:\t42\n')).toEqual([42]);
    expect(parseNsPid('NSpid:\t1\t2\t3')).toEqual([1, 2, 3]);
  });

  test('absent or malformed → null', () => {
    expect(parseNsPid('Name:\tnode\nPid:\t5\n')).toBeNull();
    expect(parseNsPid('NSpid:\n')).toBeNull();
    expect(parseNsPid('NSpid:\t12\tx\n')).toBeNull();
    expect(parseNsPid('NSpid:\t0\n')).toBeNull();
    expect(parseNsPid('')).toBeNull();
    expect(parseNsPid(undefined as unknown as string)).toBeNull();
  });
});
