// Joins ps's rows with the /proc/<pid>/stat records read right after it, by PID. Pure.
// ps gives the command line; stat gives the kernel's word on parent, state, threads and start time.
import type { Proc } from '../../types.ts';
import type { StatRecord } from '../proc-stat.ts';
import type { PsRow } from './parse.ts';

/**
 * One Proc per ps row (first row wins for a repeated PID), in ps order, minus our own probes.
 * - ppid/state/comm/threads/startTicks come from stat when the PID has a record, else from ps
 *   (a process that exited between ps and cat keeps what ps said, without startTicks). When
 *   neither says the parent (BusyBox no-desktop `ps` has no PPID column and the process is gone),
 *   ppid is 0.
 * - BusyBox's `{comm} ` prefix is removed from the command: it adds it when comm is not a prefix
 *   of argv[0]'s basename, e.g. `{evil) Z 1 (tail} node /app/dist/workers/indexer.js --queue
 *   default` (all BusyBox fixtures); procps and toybox print the plain argv there.
 * - `truncated` (no-desktop's 79-column lines, toybox's ARGS) is carried over.
 */
export function mergeProcesses(rows: PsRow[], stats: StatRecord[], probeArgvs: string[][]): Proc[] {
  const statOf = new Map<number, StatRecord>();
  for (const s of stats) if (!statOf.has(s.pid)) statOf.set(s.pid, s);
  const probes = probeCommands(probeArgvs);
  const seen = new Set<number>();
  const procs: Proc[] = [];
  for (const row of rows) {
    if (seen.has(row.pid)) continue;
    seen.add(row.pid);
    const proc = mergeOne(row, statOf.get(row.pid));
    if (!isProbe(proc, probes)) procs.push(proc);
  }
  return procs;
}

function mergeOne(row: PsRow, stat: StatRecord | undefined): Proc {
  const unprefixed = stripCommPrefix(row.command, stat?.comm ?? row.comm);
  const proc: Proc = { pid: row.pid, ppid: stat?.ppid ?? row.ppid ?? 0, command: unprefixed.command };
  const comm = stat?.comm ?? row.comm ?? unprefixed.comm;
  if (comm !== undefined) proc.comm = comm;
  const state = stat?.state ?? row.stat?.charAt(0);
  if (state) proc.state = state;
  if (stat) {
    proc.threads = stat.threads;
    proc.startTicks = stat.startTicks;
  }
  if (row.truncated) proc.truncated = true;
  return proc;
}

/** BusyBox's read_cmdline() prefix `{comm} `; with comm unknown, any `{≤15 chars} ` prefix. */
const ANY_COMM_PREFIX = /^\{([^\n]{1,15}?)\} (?=\S)/;

function stripCommPrefix(command: string, comm: string | undefined): { command: string; comm?: string } {
  if (comm !== undefined) {
    const prefix = `{${comm}} `;
    return { command: command.startsWith(prefix) ? command.slice(prefix.length) : command };
  }
  const m = ANY_COMM_PREFIX.exec(command);
  return m ? { command: command.slice(m[0].length), comm: m[1]! } : { command };
}

/** What a probe's own row can look like: argv joined, and with argv[0] reduced to its basename. */
function probeCommands(probeArgvs: string[][]): string[] {
  const out = new Set<string>();
  for (const argv of probeArgvs) {
    if (argv.length === 0) continue;
    out.add(argv.join(' '));
    const base = argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1);
    out.add([base, ...argv.slice(1)].join(' '));
  }
  return [...out];
}

/**
 * Our own `ps`/`cat`: started by `docker exec`, their parent is outside the container (ppid 0),
 * and they are not PID 1. A cut line (79 columns; `cat` with hundreds of paths) matches by prefix.
 */
function isProbe(proc: Proc, probes: string[]): boolean {
  if (proc.ppid !== 0 || proc.pid === 1) return false;
  const printed = proc.truncated ? proc.command.trimEnd() : proc.command;
  if (printed === '') return false;
  return probes.some((p) => p === printed || (proc.truncated === true && p.startsWith(printed)));
}
