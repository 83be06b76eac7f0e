// parsePs and the ps ladder against verbatim captures of six real ps builds
// (test/fixtures/ps, copied byte for byte from the shared corpus; see its INDEX.md).
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PS_ATTEMPT,
  PS_ATTEMPTS,
  assessPsAttempt,
  judgePsAttempt,
  nextPsAttempt,
  type PsAttemptResult,
} from '../../src/observe/ps/argv.ts';
import { parsePs, utf8Length, type PsFlavor, type PsRow } from '../../src/observe/ps/parse.ts';
import { ALPINE, BB135, MINIMAL, NODESKTOP, PROCPS, PS_FIXTURES, psFixture, TOYBOX, truthOf, type TruthProc } from './helpers/fixtures.ts';

const BUSYBOX_DESKTOP = [BB135, ALPINE, MINIMAL];

const title = (p: TruthProc): string => p.argv.join(' ');
const planProc = (variant: string, plan: number, role = 'node'): TruthProc =>
  truthOf(variant).processes.find((p) => p.plan_id === plan && p.role === role)!;

/** How each implementation prints a process's command line (INDEX.md, "Command line" section). */
type Rendering = 'busybox' | 'procps-c' | 'procps-utf8' | 'toybox-cmdline';

function printed(p: TruthProc, how: Rendering): string {
  if (p.argv.length === 0) return how.startsWith('procps') ? `[${p.comm}] <defunct>` : `[${p.comm}]`;
  const joined = title(p);
  if (how === 'procps-c') return [...new TextEncoder().encode(joined)].map((b) => (b < 0x80 ? String.fromCharCode(b) : '?')).join('');
  if (how !== 'busybox') return joined;
  // BusyBox read_cmdline(): `{comm} ` unless comm prefixes the basename of argv[0] (cut at a space).
  const argv0 = p.argv[0]!.split(' ')[0]!;
  let base = joined.slice(argv0.lastIndexOf('/') + 1);
  if (base.startsWith('-')) base = base.slice(1);
  return base.startsWith(p.comm) ? joined : `{${p.comm}} ${joined}`;
}

interface Listing {
  variant: string;
  file: string;
  flavor: PsFlavor;
  how: Rendering;
  hasPpid: boolean;
  hasStat: boolean;
}

const desktopListings: Listing[] = BUSYBOX_DESKTOP.flatMap((variant) => [
  { variant, file: 'ps-o-pid-ppid-stat-args.txt', flavor: 'busybox', how: 'busybox', hasPpid: true, hasStat: true },
  { variant, file: 'ps-o-pid-ppid-comm-args.txt', flavor: 'busybox', how: 'busybox', hasPpid: true, hasStat: false },
  { variant, file: 'ps-o-pid-ppid-user-vsz-rss-stat-args.txt', flavor: 'busybox', how: 'busybox', hasPpid: true, hasStat: true },
  ...['ps.txt', 'ps-A.txt', 'ps-ef.txt', 'ps-aux.txt', 'ps-w.txt', 'ps-ww.txt', 'ps-ef.LC_ALL=C.UTF-8.txt'].map((file) => ({
    variant, file, flavor: 'busybox' as const, how: 'busybox' as const, hasPpid: false, hasStat: false,
  })),
]);

/** Listings of every process with the full command line, one per build and then some. */
const FULL_LISTINGS: Listing[] = [
  ...desktopListings,
  { variant: ALPINE, file: 'ps-o-pid-ppid-etime-time-args.txt', flavor: 'busybox', how: 'busybox', hasPpid: true, hasStat: false },
  { variant: TOYBOX, file: 'ps-o-pid-ppid-cmdline.txt', flavor: 'toybox', how: 'toybox-cmdline', hasPpid: true, hasStat: false },
  { variant: PROCPS, file: 'ps-eo-pid-ppid-etimes-args.txt', flavor: 'procps', how: 'procps-c', hasPpid: true, hasStat: false },
  { variant: PROCPS, file: 'ps-ef.txt', flavor: 'procps', how: 'procps-c', hasPpid: true, hasStat: false },
  { variant: PROCPS, file: 'ps-ef.LC_ALL=C.UTF-8.txt', flavor: 'procps', how: 'procps-utf8', hasPpid: true, hasStat: false },
  { variant: PROCPS, file: 'ps-aux.txt', flavor: 'procps', how: 'procps-c', hasPpid: false, hasStat: true },
];

/** The one row that is not in the ground truth must be the ps that printed the table. */
function splitOwnRow(rows: PsRow[], truth: TruthProc[]): { own: PsRow[]; rest: Map<number, PsRow> } {
  const truthPids = new Set(truth.map((p) => p.pid));
  return {
    own: rows.filter((r) => !truthPids.has(r.pid)),
    rest: new Map(rows.filter((r) => truthPids.has(r.pid)).map((r) => [r.pid, r])),
  };
}

describe('parsePs: full listings match ground-truth.json', () => {
  for (const l of FULL_LISTINGS) {
    describe(`${l.variant}/${l.file}`, () => {
      const parsed = parsePs(psFixture(l.variant, l.file));
      const truth = truthOf(l.variant).processes;
      const { own, rest } = splitOwnRow(parsed.rows, truth);

      test(`flavor ${l.flavor}`, () => expect(parsed.flavor).toBe(l.flavor));

      test('every process of the container, plus the ps itself', () => {
        expect([...rest.keys()].sort((a, b) => a - b)).toEqual(truth.map((p) => p.pid).sort((a, b) => a - b));
        expect(own).toHaveLength(1);
        expect(own[0]!.command.startsWith('ps')).toBe(true);
        if (l.hasPpid) expect(own[0]!.ppid).toBe(0);
      });

      test(l.hasPpid ? 'ppids' : 'no PPID column, no ppid', () => {
        for (const p of truth) expect(rest.get(p.pid)!.ppid).toBe(l.hasPpid ? p.ppid : undefined);
      });

      test('every command as this ps prints it, none flagged truncated', () => {
        for (const p of truth) {
          const row = rest.get(p.pid)!;
          expect(row.command).toBe(printed(p, l.how));
          expect(row.truncated).toBeUndefined();
        }
      });

      test('npm exec titles whole (one argv string with spaces)', () => {
        const npm = truth.filter((p) => p.role === 'npm-exec');
        expect(npm.length).toBeGreaterThanOrEqual(6);
        for (const p of npm) expect(rest.get(p.pid)!.command).toBe(title(p));
        expect(npm.map(title)).toContain('npm exec @21st-dev/magic@latest');
      });

      test('the 674-byte command line survives whole', () => {
        const long = planProc(l.variant, 6);
        expect(utf8Length(title(long))).toBe(673); // 674 cmdline bytes minus the final NUL
        expect(rest.get(long.pid)!.command).toBe(title(long));
      });

      test(l.how === 'procps-c' ? 'UTF-8 argv parsed in its C-locale ? form' : 'UTF-8 argv intact, spaces and empty argument kept', () => {
        const cmd = rest.get(planProc(l.variant, 5).pid)!.command;
        if (l.how === 'procps-c') {
          expect(cmd).toBe('node /app/scripts/w??rker.js --label caf??  ???   na??ve --city=??????  --emoji=???? --end');
        } else {
          expect(cmd).toBe('node /app/scripts/wörker.js --label café  ☕   naïve --city=東京  --emoji=🚀 --end');
        }
      });

      test('comm with spaces and parentheses', () => {
        const evil = planProc(l.variant, 7);
        const plain = 'node /app/dist/workers/indexer.js --queue default';
        expect(rest.get(evil.pid)!.command).toBe(l.how === 'busybox' ? `{evil) Z 1 (tail} ${plain}` : plain);
      });

      test('zombie recognisable', () => {
        const zombie = planProc(l.variant, 9, 'sh -c');
        const row = rest.get(zombie.pid)!;
        expect(row.command).toBe(l.flavor === 'procps' ? '[sh] <defunct>' : '[sh]');
        if (l.hasStat || l.flavor === 'procps') expect(row.stat).toBe('Z');
      });

      if (l.hasStat) {
        test('STAT of the stopped process and the zombie', () => {
          expect(rest.get(planProc(l.variant, 8).pid)!.stat?.[0]).toBe('T');
          expect(rest.get(planProc(l.variant, 9, 'sh -c').pid)!.stat).toBe('Z');
        });
      }
    });
  }
});

describe('parsePs: BusyBox no-desktop, lines cut at 79 columns', () => {
  const text = psFixture(NODESKTOP, 'ps.txt');
  const parsed = parsePs(text);
  const truth = truthOf(NODESKTOP).processes;
  const { own, rest } = splitOwnRow(parsed.rows, truth);
  const lineOf = new Map(text.split('\n').slice(1).map((l) => [Number(l.slice(0, 5)), l]));

  test('flavor, every PID, no PPID column, STAT kept', () => {
    expect(parsed.flavor).toBe('busybox-nodesktop');
    expect([...rest.keys()].sort((a, b) => a - b)).toEqual(truth.map((p) => p.pid).sort((a, b) => a - b));
    expect(own.map((r) => r.command)).toEqual(['ps']);
    for (const p of truth) {
      expect(rest.get(p.pid)!.ppid).toBeUndefined();
      expect(rest.get(p.pid)!.stat?.[0]).toBe(p.state);
    }
  });

  test('a row is flagged truncated exactly when its line reaches 77 bytes; the text kept is a prefix', () => {
    for (const p of truth) {
      const row = rest.get(p.pid)!;
      const full = printed(p, 'busybox');
      const lineBytes = utf8Length(lineOf.get(p.pid)!);
      expect(lineBytes).toBeLessThanOrEqual(78);
      expect(row.truncated === true).toBe(lineBytes >= 77);
      if (row.truncated) expect(full.startsWith(row.command)).toBe(true);
      else expect(row.command).toBe(full);
    }
  });

  test('the 674-byte line is cut (at an argument boundary: 77 bytes) and flagged', () => {
    const row = rest.get(planProc(NODESKTOP, 6).pid)!;
    expect(row.command).toBe('node --max-old-space-size=4096 --enable-source-maps');
    expect(utf8Length(lineOf.get(row.pid)!)).toBe(77);
    expect(row.truncated).toBe(true);
  });

  test('the UTF-8 line is cut but its characters are intact', () => {
    const row = rest.get(planProc(NODESKTOP, 5).pid)!;
    expect(row.command).toBe('node /app/scripts/wörker.js --label café  ☕   na');
    expect(row.truncated).toBe(true);
  });

  test('npm titles are short enough to survive, zombie and comm prefix as printed', () => {
    for (const p of truth.filter((t) => t.role === 'npm-exec')) {
      expect(rest.get(p.pid)!.command).toBe(title(p));
      expect(rest.get(p.pid)!.truncated).toBeUndefined();
    }
    expect(rest.get(planProc(NODESKTOP, 9, 'sh -c').pid)).toMatchObject({ command: '[sh]', stat: 'Z' });
    expect(rest.get(planProc(NODESKTOP, 7).pid)!.command).toBe('{evil) Z 1 (tail} node /app/dist/workers/indexer.js ');
  });
});

describe('parsePs: comm columns', () => {
  for (const variant of [...BUSYBOX_DESKTOP, PROCPS]) {
    test(`${variant} -o pid,ppid,comm,args: comm (with spaces) and args apart`, () => {
      const parsed = parsePs(psFixture(variant, 'ps-o-pid-ppid-comm-args.txt'));
      const byPid = new Map(parsed.rows.map((r) => [r.pid, r]));
      const truth = truthOf(variant).processes.filter((p) => byPid.has(p.pid)); // procps without -e: own uid only
      expect(truth.length).toBeGreaterThanOrEqual(30);
      for (const p of truth) {
        expect(byPid.get(p.pid)!.comm).toBe(p.comm);
        expect(byPid.get(p.pid)!.command).toBe(printed(p, variant === PROCPS ? 'procps-c' : 'busybox'));
      }
      expect(byPid.get(planProc(variant, 7).pid)!.comm).toBe('evil) Z 1 (tail');
    });
  }

  test('procps and toybox plain `ps`: CMD is the 15-byte comm, flagged as not the command line', () => {
    for (const variant of [PROCPS, TOYBOX]) {
      for (const file of ['ps.txt', 'ps-A.txt']) {
        const parsed = parsePs(psFixture(variant, file));
        expect(parsed.flavor).toBe(variant === PROCPS ? 'procps' : 'toybox');
        const byPid = new Map(parsed.rows.map((r) => [r.pid, r]));
        const magic = truthOf(variant).processes.find((p) => p.plan_id === 1 && p.role === 'npm-exec')!;
        expect(byPid.get(magic.pid)).toMatchObject({ comm: 'npm exec @21st-', command: 'npm exec @21st-', truncated: true });
        expect(byPid.get(planProc(variant, 7).pid)!.comm).toBe('evil) Z 1 (tail');
      }
    }
  });

  test('toybox COMM is the exe basename, not comm: not reported', () => {
    const rows = parsePs(psFixture(TOYBOX, 'ps-o-pid-ppid-comm-args.txt')).rows;
    expect(rows).toHaveLength(34);
    for (const r of rows) expect(r.comm).toBeUndefined();
  });
});

describe('parsePs: toybox ARGS and -f CMD cut argv[0] at its last slash', () => {
  for (const file of ['ps-o-pid-ppid-stat-args.txt', 'ps-ef.txt', 'ps-o-pid-ppid-user-vsz-rss-stat-args.txt']) {
    test(file, () => {
      const parsed = parsePs(psFixture(TOYBOX, file));
      expect(parsed.flavor).toBe('toybox');
      const truth = truthOf(TOYBOX).processes;
      const { rest } = splitOwnRow(parsed.rows, truth);
      expect(rest.size).toBe(truth.length);
      for (const r of parsed.rows) expect(r.truncated).toBe(true);
      const magic = truth.filter((p) => title(p) === 'npm exec @21st-dev/magic@latest');
      expect(magic).toHaveLength(3);
      for (const p of magic) expect(rest.get(p.pid)!.command).toBe('magic@latest');
      for (const p of truth) expect(rest.get(p.pid)!.ppid).toBe(p.ppid);
      // toybox prints a user name longer than its column whole and shifts the row: still parsed
      expect(rest.get(planProc(TOYBOX, 6).pid)!.command.startsWith('node --max-old-space-size=4096')).toBe(true);
    });
  }
});

describe('parsePs: genuine npm exec processes on the host (_host-real-npm-exec)', () => {
  // pid → [ppid, command line, comm], from the od -c dumps and /proc/<pid>/stat lines in
  // proc-comm-stat-cmdline-status.txt; 7034/7062/7063 (cowsay) had exited before t+76min.
  const REAL: Record<number, [number, string, string]> = {
    6724: [6721, 'npm exec sleepy-mcp mcp start', 'npm exec sleepy'],
    6767: [6724, "sh -c 'sleepy-mcp' mcp start", 'sh'],
    6768: [6767, 'node /home/app/proj/node_modules/.bin/sleepy-mcp mcp start', 'node'],
    7030: [1, 'npm exec sleepy-mcp --stdio', 'npm exec sleepy'],
    7034: [7032, 'npm exec cowsay', 'npm exec cowsay'],
    7055: [7030, "sh -c 'sleepy-mcp' --stdio", 'sh'],
    7056: [7055, 'node /home/app/proj/node_modules/.bin/sleepy-mcp --stdio', 'node'],
    7062: [7034, "sh -c 'cowsay'", 'sh'],
    7063: [7062, 'node /home/app/proj/node_modules/.bin/cowsay', 'node'],
    9743: [1, 'npm x sleepy-mcp with-some-longer-args', 'npm x sleepy-mc'],
    9745: [1, 'npm x sleepy-mcp', 'npm x sleepy-mc'],
    9767: [9745, "sh -c 'sleepy-mcp'", 'sh'],
    9768: [9767, 'node /home/app/proj/node_modules/.bin/sleepy-mcp', 'node'],
    9769: [9743, "sh -c 'sleepy-mcp' with-some-longer-args", 'sh'],
    9770: [9769, 'node /home/app/proj/node_modules/.bin/sleepy-mcp with-some-longer-args', 'node'],
    9962: [1, 'npm exec sleep', 'npm exec sleep'],
    9974: [9962, "sh -c 'sleepy-mcp'", 'sh'],
    9975: [9974, 'node /home/app/proj/node_modules/.bin/sleepy-mcp', 'node'],
  };
  const GONE_AT_76 = [7034, 7062, 7063];
  const CUT_AT_79 = [6768, 7056, 9770];
  const CASES: [string, PsFlavor, { ppid: boolean; comm: boolean; cut: 'none' | 'toybox-args' | '79' }][] = [
    ['t+1min/busybox-1.35.0-debian-static-ps.txt', 'busybox', { ppid: false, comm: false, cut: 'none' }],
    ['t+1min/procps-ps-ef--forest.txt', 'procps', { ppid: true, comm: false, cut: 'none' }],
    ['t+1min/procps-ps-eo-pid-ppid-etimes-args.txt', 'procps', { ppid: true, comm: false, cut: 'none' }],
    ['t+1min/procps-ps-o-pid-ppid-comm-etimes-stat-args-p.txt', 'procps', { ppid: true, comm: true, cut: 'none' }],
    ['t+1min/toybox-0.8.9-ps-ef.txt', 'toybox', { ppid: true, comm: false, cut: 'toybox-args' }],
    ['t+1min/toybox-0.8.9-ps-o-pid-ppid-etime-comm-cmd-args-p.txt', 'toybox', { ppid: true, comm: true, cut: 'toybox-args' }],
    ['t+12min/busybox-1.35.0-debian-static-ps-o-pid-ppid-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+12min/busybox-1.36.1-alpine-config-ps-o-pid-ppid-etime-time-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+12min/busybox-1.36.1-defconfig-minimal-ps-ps-o-pid-ppid-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+12min/procps-ps-o-pid-ppid-etime-time-comm-args-p.txt', 'procps', { ppid: true, comm: true, cut: 'none' }],
    ['t+76min/busybox-1.35.0-debian-static-ps-o-pid-ppid-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+76min/busybox-1.35.0-debian-static-ps.txt', 'busybox', { ppid: false, comm: false, cut: 'none' }],
    ['t+76min/busybox-1.36.1-alpine-config-ps-o-pid-ppid-etime-time-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+76min/busybox-1.36.1-defconfig-minimal-ps-ps-o-pid-ppid-comm-args.txt', 'busybox', { ppid: true, comm: true, cut: 'none' }],
    ['t+76min/busybox-1.36.1-defconfig-nodesktop-minimal-ps-ps.txt', 'busybox-nodesktop', { ppid: false, comm: false, cut: '79' }],
    ['t+76min/procps-ps-aux.txt', 'procps', { ppid: false, comm: false, cut: 'none' }],
    ['t+76min/procps-ps-ef--forest.txt', 'procps', { ppid: true, comm: false, cut: 'none' }],
    ['t+76min/procps-ps-eo-pid-ppid-etime-time-stat-nlwp-comm-args.txt', 'procps', { ppid: true, comm: true, cut: 'none' }],
    ['t+76min/procps-ps-eo-pid-ppid-etimes-args.txt', 'procps', { ppid: true, comm: false, cut: 'none' }],
    ['t+76min/toybox-0.8.9-ps-ef.txt', 'toybox', { ppid: true, comm: false, cut: 'toybox-args' }],
    ['t+76min/toybox-0.8.9-ps-o-pid-ppid-etime-comm-cmd-args-p.txt', 'toybox', { ppid: true, comm: true, cut: 'toybox-args' }],
  ];

  for (const [file, flavor, has] of CASES) {
    test(file, () => {
      const parsed = parsePs(psFixture('_host-real-npm-exec', file));
      expect(parsed.flavor).toBe(flavor);
      const expectedPids = Object.keys(REAL).map(Number).filter((p) => !(file.startsWith('t+76') && GONE_AT_76.includes(p)));
      expect(parsed.rows.map((r) => r.pid).sort((a, b) => a - b)).toEqual(expectedPids);
      for (const row of parsed.rows) {
        const [ppid, command, comm] = REAL[row.pid]!;
        expect(row.ppid).toBe(has.ppid ? ppid : undefined);
        expect(row.comm).toBe(has.comm ? comm : undefined);
        const cut = has.cut === 'toybox-args' || (has.cut === '79' && CUT_AT_79.includes(row.pid));
        expect(row.truncated).toBe(cut ? true : undefined);
        if (has.cut === '79' && cut) expect(command.startsWith(row.command)).toBe(true);
        else expect(row.command).toBe(command); // these titles have no '/', so toybox's cut spares them
      }
    });
  }

  test('no-desktop cuts the three long node lines mid-argument', () => {
    const rows = parsePs(psFixture('_host-real-npm-exec', 't+76min/busybox-1.36.1-defconfig-nodesktop-minimal-ps-ps.txt')).rows;
    expect(rows.filter((r) => r.truncated).map((r) => [r.pid, r.command])).toEqual([
      [6768, 'node /home/app/proj/node_modules/.bin/sleepy-mcp mcp'],
      [7056, 'node /home/app/proj/node_modules/.bin/sleepy-mcp --s'],
      [9770, 'node /home/app/proj/node_modules/.bin/sleepy-mcp wit'],
    ]);
  });
});

describe('parsePs: anything else', () => {
  test('error outputs and garbage give no rows, never throw', () => {
    const inputs = [
      '',
      '\n\n',
      psFixture(TOYBOX, 'sh-c-kill-l.txt'), // Docker's "executable file not found" text
      psFixture(TOYBOX, 'ps-eo-pid-ppid-etimes-args.txt'), // toybox's field help on stdout
      psFixture(PROCPS, 'ps-w.txt'), // header only
      'PID   PPID  STAT COMMAND\nnot a process line\n   -5     1 S    x\n 99999999999     1 S    x\n',
      '\u0000\u0001\uFFFD\uD800 PID',
      'PID\n',
    ];
    for (const input of inputs) {
      const parsed = parsePs(input);
      expect(parsed.rows).toEqual([]);
    }
    expect(parsePs(undefined as unknown as string)).toEqual({ flavor: 'unknown', rows: [] });
  });

  test('random input never throws and only yields positive integer PIDs', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const alphabet = ['PID', 'PPID', 'STAT', 'COMMAND', 'ARGS', ' ', ' ', '\n', '1', '23', 'S', 'Z', 'é', '🚀', '{', '}', '[sh]', '-', '\t'];
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: rand(80) }, () => alphabet[rand(alphabet.length)]!).join('');
      const parsed = parsePs(text);
      for (const r of parsed.rows) expect(Number.isInteger(r.pid) && r.pid > 0).toBe(true);
    }
  });

  // BusyBox pads a column with width - len + 1 spaces: none after a 6-digit value in PID's 5,
  // one (printf's negative width) after a 7-digit one. Lines built by those rules:
  test('BusyBox PIDs past 99999: glued to the STAT that the ladder puts after them', () => {
    const text = [
      'PID   STAT PPID  STAT COMMAND',
      '123456S    123457S    node  a   b',
      '1234567 S        1 S    [sh]',
      '    7 Z    123456Z    [sh]',
    ].join('\n');
    expect(parsePs(text).rows).toEqual([
      { pid: 123456, stat: 'S', ppid: 123457, command: 'node  a   b' },
      { pid: 1234567, stat: 'S', ppid: 1, command: '[sh]' },
      { pid: 7, stat: 'Z', ppid: 123456, command: '[sh]' },
    ]);
  });

  test('a command starting with spaces (empty argv[0]) keeps them while the line is aligned', () => {
    expect(parsePs('PID   PPID  STAT COMMAND\n    5     1 S     x  y\n').rows[0]!.command).toBe(' x  y');
    expect(parsePs('    PID    PPID STAT COMMAND\n      5       1 S     x\n').rows[0]!.command).toBe(' x');
  });

  test('procps --forest art with sibling bars is not part of the command', () => {
    const text = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot          10       1  0 05:05 ?        00:00:00  |   \\_ node a.js\n';
    expect(parsePs(text).rows).toEqual([{ pid: 10, ppid: 1, command: 'node a.js' }]);
  });

  test('two glued numbers cannot be split: the row is dropped, not misread', () => {
    const text = 'PID   PPID  STAT COMMAND\n123456123457 S    node\n    1     0 S    init\n';
    expect(parsePs(text).rows).toEqual([{ pid: 1, ppid: 0, stat: 'S', command: 'init' }]);
  });

  test('BusyBox desktop line of 2048 bytes (its MAX_WIDTH) is flagged truncated', () => {
    const prefix = '    1     0 S    ';
    const full = `${prefix}${'x'.repeat(2048 - prefix.length)}`;
    const rows = parsePs(`PID   PPID  STAT COMMAND\n${full}\n${full.slice(0, -1)}\n`).rows;
    expect(rows.map((r) => r.truncated)).toEqual([true, undefined]);
  });
});

describe('ps ladder (argv.ts)', () => {
  /** A build's answer to an argv: the capture of that argv, or of one its answer is known to equal. */
  type Build = (attempt: number) => PsAttemptResult;
  const capture = (variant: string, name: string): PsAttemptResult => {
    const file = (ext: string) => join(PS_FIXTURES, variant, `${name}.${ext}`);
    return {
      stdout: psFixture(variant, `${name}.txt`),
      stderr: existsSync(file('err')) ? readFileSync(file('err'), 'utf8') : '',
      exitCode: existsSync(file('rc')) ? Number(readFileSync(file('rc'), 'utf8').trim()) : 0,
    };
  };
  const unreachable = (attempt: number): never => {
    throw new Error(`attempt ${attempt} should not run`);
  };

  // Stand-ins (the corpus has no capture of our exact argv): BusyBox desktop ignores -e and any
  // dash-less argument, so attempt 0 prints what `ps -o pid,ppid,stat,args` printed; procps'
  // `-eo pid,ppid,etimes,args` is the same selection; toybox rejects `ww` as in `ps ww`; no-desktop
  // rejects -e as in `ps -eo ...`, and -w as in `ps w`/`ps ww`.
  const desktop = (variant: string): Build => (a) => (a === 0 ? capture(variant, 'ps-o-pid-ppid-stat-args') : unreachable(a));
  const BUILDS: [string, Build, number, number, PsFlavor][] = [
    [BB135, desktop(BB135), PS_ATTEMPT.portable, 1, 'busybox'],
    [ALPINE, desktop(ALPINE), PS_ATTEMPT.portable, 1, 'busybox'],
    [MINIMAL, desktop(MINIMAL), PS_ATTEMPT.portable, 1, 'busybox'],
    [PROCPS, (a) => (a === 0 ? capture(PROCPS, 'ps-eo-pid-ppid-etimes-args') : unreachable(a)), PS_ATTEMPT.portable, 1, 'procps'],
    [TOYBOX, (a) => [capture(TOYBOX, 'ps-ww'), capture(TOYBOX, 'ps-o-pid-ppid-cmdline')][a] ?? unreachable(a), PS_ATTEMPT.toyboxCmdline, 2, 'toybox'],
    [
      NODESKTOP,
      (a) =>
        ({ 0: capture(NODESKTOP, 'ps-eo-pid-ppid-etimes-args'), 1: capture(NODESKTOP, 'ps-w'), 2: capture(NODESKTOP, 'ps-ww'), 3: capture(NODESKTOP, 'ps') })[a] ??
        unreachable(a),
      PS_ATTEMPT.plain,
      2,
      'busybox-nodesktop',
    ],
  ];

  /** What the caller does: run, judge, follow nextPsAttempt. */
  function climb(build: Build): { accepted: number | null; execs: number; flavor?: PsFlavor } {
    let attempt: number | null = 0;
    let execs = 0;
    while (attempt !== null) {
      const result = build(attempt);
      execs++;
      const a = assessPsAttempt(attempt, result);
      if (a.verdict === 'accept') return { accepted: attempt, execs, flavor: a.parsed.flavor };
      attempt = nextPsAttempt(attempt, result);
    }
    return { accepted: null, execs };
  }

  for (const [variant, build, accepted, execs, flavor] of BUILDS) {
    test(`${variant}: accepts ${JSON.stringify(PS_ATTEMPTS[accepted])} after ${execs} exec(s)`, () => {
      expect(climb(build)).toEqual({ accepted, execs, flavor });
    });
  }

  test('the plain in-order loop (judge only) also lands on the right attempt', () => {
    const inOrder = (build: Build) => {
      for (let i = 0; i < PS_ATTEMPTS.length; i++) if (judgePsAttempt(i, build(i)) === 'accept') return [i, i + 1];
      return [null, PS_ATTEMPTS.length];
    };
    expect(BUILDS.map(([, build]) => inOrder(build))).toEqual([[0, 1], [0, 1], [0, 1], [0, 1], [1, 2], [3, 4]]);
  });

  test('attempt 0 on a toybox that would accept ww: its ARGS header sends us to cmdline', () => {
    const result = capture(TOYBOX, 'ps-o-pid-ppid-stat-args');
    expect(judgePsAttempt(PS_ATTEMPT.portable, result)).toBe('next');
    expect(nextPsAttempt(PS_ATTEMPT.portable, result)).toBe(PS_ATTEMPT.toyboxCmdline);
  });

  test('BusyBox no-desktop with FEATURE_PS_WIDE (usage lists w): try `ps ww` next', () => {
    const stderr = "ps: invalid option -- 'e'\nBusyBox v1.36.1 multi-call binary.\n\nUsage: ps\n\nShow list of processes\n\n\tw\tWide output\n\tT\tShow threads\n";
    expect(nextPsAttempt(PS_ATTEMPT.portable, { exitCode: 1, stdout: '', stderr })).toBe(PS_ATTEMPT.busyboxWide);
  });

  test('procps `ps` (no -e) would miss other users: attempt 0 must list them', () => {
    const own = parsePs(psFixture(PROCPS, 'ps-o-pid-ppid-stat-args.txt')).rows.length;
    const all = parsePs(psFixture(PROCPS, 'ps-eo-pid-ppid-etimes-args.txt')).rows.length;
    expect([own, all]).toEqual([31, 34]);
    expect(PS_ATTEMPTS[PS_ATTEMPT.portable]).toContain('-e');
  });

  test('no ps in the image: give up at once', () => {
    const missing = capture(TOYBOX, 'sh-c-kill-l'); // Docker's message for a missing program, exit 126
    expect(missing.exitCode).toBe(126);
    expect(judgePsAttempt(0, missing)).toBe('give-up');
    expect(nextPsAttempt(0, missing)).toBeNull();
  });

  test('the last attempt failing gives up', () => {
    expect(judgePsAttempt(PS_ATTEMPT.plain, { exitCode: 1, stdout: '', stderr: 'ps: boom' })).toBe('give-up');
    expect(judgePsAttempt(99, { exitCode: 0, stdout: '', stderr: '' })).toBe('give-up');
  });

  test('attempts are frozen data, args last (BusyBox drops columns after one that overflows)', () => {
    expect(Object.isFrozen(PS_ATTEMPTS) && PS_ATTEMPTS.every(Object.isFrozen)).toBe(true);
    expect(PS_ATTEMPTS[0]!.slice(0, 4)).toEqual(['ps', '-e', '-o', 'pid,stat,ppid,stat,args']);
    expect(PS_ATTEMPTS[1]!.at(-1)!.endsWith(',cmdline')).toBe(true);
  });
});
