// mergeProcesses on verbatim ps and cat /proc/<pid>/stat captures (test/fixtures/ps).
import { describe, expect, test } from 'bun:test';
import { parseProcStats, type StatRecord } from '../../src/observe/proc-stat.ts';
import { mergeProcesses } from '../../src/observe/ps/merge.ts';
import { parsePs, type PsRow } from '../../src/observe/ps/parse.ts';
import type { Proc } from '../../src/types.ts';
import { ALPINE, BB135, MINIMAL, NODESKTOP, PROCPS, psFixture, TOYBOX, truthOf } from './helpers/fixtures.ts';

function statsOf(variant: string): StatRecord[] {
  const names = Object.keys(truthOf(variant).proc_stat_files);
  return parseProcStats(names.map((n) => psFixture(variant, `${n}.txt`)).join(''));
}

/** The listing closest to what the ladder accepts on each build, and the argv that printed it. */
const LISTINGS: [variant: string, capture: string][] = [
  [BB135, 'ps-o-pid-ppid-stat-args'],
  [ALPINE, 'ps-o-pid-ppid-stat-args'],
  [MINIMAL, 'ps-o-pid-ppid-stat-args'],
  [NODESKTOP, 'ps'],
  [TOYBOX, 'ps-o-pid-ppid-cmdline'],
  [PROCPS, 'ps-eo-pid-ppid-etimes-args'],
];

function merged(variant: string, capture: string, stats = statsOf(variant)): Proc[] {
  const rows = parsePs(psFixture(variant, `${capture}.txt`)).rows;
  return mergeProcesses(rows, stats, [truthOf(variant).commands[capture]!.argv]);
}

describe('mergeProcesses: ladder listing + cat of the stat files', () => {
  for (const [variant, capture] of LISTINGS) {
    describe(`${variant} (${capture})`, () => {
      const truth = truthOf(variant);
      const procs = merged(variant, capture);
      const byPid = new Map(procs.map((p) => [p.pid, p]));
      const statPids = new Set(Object.values(truth.proc_stat_files).map((f) => f.pid));
      const cutAt79 = variant.includes('nodesktop');

      test('our ps is dropped, every container process kept once', () => {
        expect(procs.map((p) => p.pid).sort((a, b) => a - b)).toEqual(truth.processes.map((p) => p.pid).sort((a, b) => a - b));
      });

      test('stat wins for parent, state, comm, threads and start time; ps stands in without it', () => {
        for (const t of truth.processes) {
          const p = byPid.get(t.pid)!;
          if (statPids.has(t.pid)) {
            expect(p).toMatchObject({ ppid: t.ppid, state: t.state, comm: t.comm, threads: t.threads, startTicks: t.start_ticks_since_boot });
          } else {
            expect(p.startTicks).toBeUndefined();
            expect(p.threads).toBeUndefined();
            if (!cutAt79) expect(p.ppid).toBe(t.ppid); // no PPID column there: 0 without stat
            if (p.state !== undefined) expect(p.state).toBe(t.state);
          }
        }
      });

      test('commands: BusyBox {comm} prefix removed; titles whole; cut lines flagged', () => {
        for (const t of truth.processes) {
          const p = byPid.get(t.pid)!;
          const full = t.argv.length > 0 ? t.argv.join(' ') : undefined;
          if (p.truncated) {
            expect(cutAt79).toBe(true);
            expect(full!.startsWith(p.command)).toBe(true);
          } else if (full !== undefined) {
            // procps in the C locale prints '?' per non-ASCII byte (this capture had no LC_ALL)
            if (!variant.startsWith('procps') || /^[\x20-\x7e]*$/.test(full)) expect(p.command).toBe(full);
          }
        }
        const evil = byPid.get(truth.processes.find((t) => t.plan_id === 7 && t.role === 'node')!.pid)!;
        expect(evil.comm).toBe('evil) Z 1 (tail');
        expect(evil.command).toBe(cutAt79 ? 'node /app/dist/workers/indexer.js ' : 'node /app/dist/workers/indexer.js --queue default');
      });

      test('zombie', () => {
        const z = byPid.get(truth.processes.find((t) => t.plan_id === 9)!.pid)!;
        expect(z).toMatchObject({ state: 'Z', comm: 'sh', ppid: 1, threads: 1 });
        expect(z.command).toBe(variant.startsWith('procps') ? '[sh] <defunct>' : '[sh]');
      });

      test('the 674-byte line: whole, or flagged where ps cut it', () => {
        const long = truth.processes.find((t) => t.plan_id === 6)!;
        const p = byPid.get(long.pid)!;
        if (cutAt79) expect(p).toMatchObject({ command: 'node --max-old-space-size=4096 --enable-source-maps', truncated: true });
        else expect(p.command).toBe(long.argv.join(' '));
      });
    });
  }
});

describe('mergeProcesses: details', () => {
  test('BusyBox plain ps (no PPID/STAT): parents and states from stat; ppid 0 where neither knows', () => {
    const procs = merged(BB135, 'ps');
    expect(procs).toHaveLength(33);
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    expect(byPid.get(104)).toEqual({
      pid: 104, ppid: 1, command: 'node /app/dist/workers/indexer.js --queue default',
      comm: 'evil) Z 1 (tail', state: 'S', threads: 3, startTicks: 128496,
    });
    expect(byPid.get(41)).toMatchObject({ ppid: 40, state: 'S', threads: 7 });
    expect(byPid.get(29)).toEqual({ pid: 29, ppid: 0, command: 'npm exec ruv-swarm mcp start' });
  });

  test('without stat or comm column the {comm} prefix is still recognised', () => {
    const procs = merged(BB135, 'ps', statsOf(BB135).filter((s) => s.pid !== 104));
    expect(procs.find((p) => p.pid === 104)).toEqual({
      pid: 104, ppid: 0, comm: 'evil) Z 1 (tail', command: 'node /app/dist/workers/indexer.js --queue default',
    });
  });

  test('a -o comm column gives comm when stat is missing', () => {
    const rows = parsePs(psFixture(BB135, 'ps-o-pid-ppid-comm-args.txt')).rows;
    const procs = mergeProcesses(rows, [], [['ps', '-o', 'pid,ppid,comm,args']]);
    expect(procs).toHaveLength(33);
    expect(procs.find((p) => p.pid === 104)).toEqual({
      pid: 104, ppid: 1, comm: 'evil) Z 1 (tail', command: 'node /app/dist/workers/indexer.js --queue default',
    });
    expect(procs.find((p) => p.pid === 18)).toEqual({ pid: 18, ppid: 1, comm: 'npm exec @21st-', command: 'npm exec @21st-dev/magic@latest' });
  });

  test('toybox ARGS rows stay flagged truncated', () => {
    const rows = parsePs(psFixture(TOYBOX, 'ps-o-pid-ppid-stat-args.txt')).rows;
    const procs = mergeProcesses(rows, [], [['ps', '-o', 'pid,ppid,stat,args']]);
    expect(procs).toHaveLength(33);
    expect(procs.every((p) => p.truncated === true)).toBe(true);
    expect(procs.find((p) => p.pid === 17)!.command).toBe('magic@latest');
  });

  const stat = (pid: number, ppid: number, comm = 'x'): StatRecord => ({ pid, comm, state: 'S', ppid, threads: 1, startTicks: 100 + pid });

  test('probe rows: exact, basename of argv[0], or a cut prefix; never PID 1 or a ppid ≠ 0', () => {
    const cat = ['cat', '/proc/1/stat', '/proc/17/stat', '/proc/28/stat', '/proc/39/stat'];
    const rows: PsRow[] = [
      { pid: 1, ppid: 0, command: 'ps' },
      { pid: 50, ppid: 0, command: 'ps -e -o pid,stat,ppid,stat,args ww' },
      { pid: 51, ppid: 0, command: 'ps' }, // /bin/ps run as such, shown by basename
      { pid: 52, ppid: 0, command: 'cat /proc/1/stat /proc/17/stat /proc/2', truncated: true },
      { pid: 53, ppid: 0, command: 'sh' }, // someone's docker exec -it sh: kept
      { pid: 54, ppid: 1, command: 'ps' }, // a ps run by the app: kept
      { pid: 55, ppid: 0, command: 'cat /proc/1/stat /proc/17/stat /proc/2' }, // not cut: no prefix match
    ];
    const procs = mergeProcesses(rows, [], [['ps', '-e', '-o', 'pid,stat,ppid,stat,args', 'ww'], ['/bin/ps'], cat]);
    expect(procs.map((p) => p.pid)).toEqual([1, 53, 54, 55]);
  });

  test('stat beats ps; first row per PID wins; stats of other PIDs ignored', () => {
    const rows: PsRow[] = [
      { pid: 10, ppid: 1, stat: 'S', comm: 'old', command: '{new} node a.js' },
      { pid: 10, ppid: 7, command: 'dup' },
      { pid: 11, ppid: 10, stat: 'T', command: 'gone before cat' },
    ];
    const procs = mergeProcesses(rows, [stat(10, 3, 'new'), stat(99, 1)], []);
    expect(procs).toEqual([
      { pid: 10, ppid: 3, comm: 'new', state: 'S', threads: 1, startTicks: 110, command: 'node a.js' },
      { pid: 11, ppid: 10, state: 'T', command: 'gone before cat' },
    ]);
  });

  test('a real argv that only looks like a prefix is left alone when comm says otherwise', () => {
    const procs = mergeProcesses([{ pid: 5, ppid: 1, command: '{x} y' }], [stat(5, 1, 'node')], []);
    expect(procs[0]!.command).toBe('{x} y');
  });

  test('empty inputs', () => {
    expect(mergeProcesses([], [], [])).toEqual([]);
    expect(mergeProcesses([], [stat(1, 0)], [['ps']])).toEqual([]);
  });
});
