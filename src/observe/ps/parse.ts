// Parses the stdout of ONE `ps` run inside a container into rows. Pure; never throws.
//
// Evidence: test/fixtures/ps (verbatim captures with their ground truth), six real builds: BusyBox 1.35
// (Debian static) and 1.36.1 (Alpine config, defconfig minimal, no-desktop minimal), toybox 0.8.9,
// procps-ng 4.0.2. Layout rules that matter here:
//  * The command line is always the LAST column, printed verbatim (inner runs of spaces and the
//    empty argument survive as runs of spaces), left-aligned: its header title starts where its
//    values start. BusyBox pads by BYTES (sprintf), procps/toybox by characters.
//  * Titles are ambiguous: BusyBox titles both `comm` and `args` `COMMAND`; procps titles `args`
//    `COMMAND` (`CMD` in -f) and comm `CMD` in plain `ps`; toybox titles args `ARGS` (argv[0] cut
//    at its last '/'), the full argv `CMDLINE`, kernel comm `CMD`, and exe basename `COMM`.
//  * Numbers overflow their width (a PID above 99999 in BusyBox's 5-wide column, toybox's long
//    user names), so every column but the text ones is read as a whitespace-separated token.

export type PsFlavor = 'busybox' | 'busybox-nodesktop' | 'toybox' | 'procps' | 'unknown';

export interface PsRow {
  pid: number;
  ppid?: number;
  /** STAT as printed (`S`, `SN`, `Ssl`, `Z`, ...). */
  stat?: string;
  /** Kernel comm (≤15 bytes) when a column shows it. */
  comm?: string;
  /** The command column as printed (BusyBox's `{comm} ` prefix and zombies' `[sh]` kept). */
  command: string;
  /** The command may be cut short or is not the full argv (see TRUNCATION below). */
  truncated?: boolean;
}

export interface ParsedPs {
  flavor: PsFlavor;
  rows: PsRow[];
}

/**
 * When a printed command may be incomplete, in UTF-8 bytes.
 * - BusyBox desktop: every line is cut at MAX_WIDTH = 2048 bytes when stdout is not a tty
 *   (procps/ps.c; a 4250-byte cmdline printed as a 2048-byte line by the real 1.35 binary).
 * - BusyBox no-desktop: lines cut at 79 columns (`terminal_width = 79`); read_cmdline() then drops
 *   trailing NULs, so a line cut at an argument boundary is 77 bytes: the 674-byte command of
 *   fixture nodesktop ps.txt (pid 86) prints as 77 bytes, the others as 78. A no-desktop build with
 *   FEATURE_PS_WIDE run as `ps ww` cuts at 2048 instead: lines there are longer than 78 bytes.
 * - toybox: the cmdline is read into a fixed buffer; toybox 0.8.9 printed 2831 bytes of a
 *   4250-byte cmdline. We flag from 2048 bytes on (the buffer's share varies with the columns).
 */
const TRUNCATION = {
  busyboxLineBytes: 2048,
  nodesktopLineBytes: 77,
  nodesktopNarrowMaxLineBytes: 78,
  nodesktopWideLineBytes: 2046,
  toyboxCommandBytes: 2048,
} as const;

/** What the last column holds. */
type CommandKind =
  | 'argv' // the full command line
  | 'argv-cut' // toybox ARGS and `-f` CMD: argv[0] cut at its last '/' (`magic@latest`)
  | 'comm' // kernel comm (plain `ps` of procps and toybox): 15 bytes at most
  | 'other'; // something that is not a command line (toybox COMMAND = exe path)

type Role = 'pid' | 'ppid' | 'stat' | 'comm' | 'text' | 'token';

interface Column {
  title: string;
  /** Start of the title in the header line (ASCII, so bytes = characters). */
  start: number;
  role: Role;
}

interface Layout {
  flavor: PsFlavor;
  columns: Column[];
  command: CommandKind;
  /** BusyBox pads with sprintf widths, i.e. bytes; the others pad characters. */
  unitsAreBytes: boolean;
}

const TITLE = /^[A-Z%][A-Z0-9%+_-]*$/;

export function parsePs(stdout: string): ParsedPs {
  try {
    return parseUnsafe(typeof stdout === 'string' ? stdout : '');
  } catch {
    return { flavor: 'unknown', rows: [] }; // "never throw": a parser bug must not stop the monitor
  }
}

function parseUnsafe(stdout: string): ParsedPs {
  const lines = stdout.split('\n');
  const headerAt = lines.findIndex(isHeader);
  if (headerAt < 0) return { flavor: 'unknown', rows: [] };
  const layout = layoutOf(lines[headerAt]!);
  const dataLines = lines.slice(headerAt + 1).filter((l) => l.trim() !== '');
  const cutAt = cutThresholdBytes(layout.flavor, dataLines);
  const rows: PsRow[] = [];
  for (const line of dataLines) {
    const row = parseLine(line, layout, cutAt);
    if (row) rows.push(row);
  }
  return { flavor: layout.flavor, rows };
}

/** The header: every word a column title, one of them PID. Skips help text toybox prints on stdout. */
function isHeader(line: string): boolean {
  const words = line.trim().split(/\s+/);
  return words.includes('PID') && words.every((w) => TITLE.test(w));
}

function layoutOf(header: string): Layout {
  const found = [...header.matchAll(/\S+/g)].map((m) => ({ title: m[0], start: m.index ?? 0 }));
  const titles = found.map((c) => c.title);
  const flavor = flavorOf(header, titles);
  const columns = found.map((c, i) => ({ ...c, role: roleOf(c.title, flavor, i === found.length - 1) }));
  const last = titles[titles.length - 1] ?? '';
  return {
    flavor,
    columns,
    command: commandKindOf(last, flavor, titles),
    unitsAreBytes: flavor === 'busybox' || flavor === 'busybox-nodesktop',
  };
}

function flavorOf(header: string, titles: string[]): PsFlavor {
  const joined = titles.join(' ');
  // No-desktop BusyBox prints one fixed header: `  PID USER       VSZ STAT COMMAND`.
  if (joined === 'PID USER VSZ STAT COMMAND' && /^\s/.test(header)) return 'busybox-nodesktop';
  // toybox-only titles, or toybox's habit of padding the header's last title with spaces.
  if (titles.some((t) => t === 'ARGS' || t === 'CMDLINE' || t === 'COMM' || t === 'NAME')) return 'toybox';
  if (/ $/.test(header)) return 'toybox';
  // BusyBox desktop left-aligns every title (`PID   PPID  STAT COMMAND`); procps and toybox
  // right-align PID, so their headers start with spaces or with UID/USER.
  if (header.startsWith('PID ') || header === 'PID') return 'busybox';
  // `-ef`: same titles in procps and toybox; procps' C column is 2 wide (`PPID  C STIME`).
  if (titles[0] === 'UID' && titles.includes('STIME')) return /PPID C /.test(header) ? 'toybox' : 'procps';
  if (/^\s+PID\b/.test(header) || titles[0] === 'USER' || titles[0] === 'UID') return 'procps';
  return 'unknown';
}

function roleOf(title: string, flavor: PsFlavor, isLast: boolean): Role {
  if (title === 'PID') return 'pid';
  if (title === 'PPID') return 'ppid';
  if (title === 'STAT' || title === 'S') return 'stat';
  if (isLast) return 'text';
  // Kernel comm columns in the middle: BusyBox/procps `COMMAND` (comm), procps/toybox `CMD`.
  if (title === 'CMD' || (title === 'COMMAND' && flavor !== 'toybox')) return 'comm';
  // Other text that may hold spaces (toybox COMM = exe basename, NAME = argv[0]): read, not kept.
  if (title === 'COMM' || title === 'NAME' || title === 'ARGS' || title === 'CMDLINE' || title === 'COMMAND') return 'text';
  return 'token';
}

function commandKindOf(title: string, flavor: PsFlavor, titles: string[]): CommandKind {
  // Plain `ps` of procps and toybox: `PID TTY TIME CMD`, CMD being the 15-byte comm.
  const plainFormat = titles.join(' ') === 'PID TTY TIME CMD';
  switch (title) {
    case 'CMDLINE':
      return 'argv';
    case 'ARGS':
      return flavor === 'toybox' ? 'argv-cut' : 'argv';
    case 'CMD':
      if (plainFormat) return 'comm';
      if (flavor === 'toybox') return titles[0] === 'UID' ? 'argv-cut' : 'comm';
      return 'argv';
    case 'COMMAND':
      return flavor === 'toybox' ? 'other' : 'argv';
    default:
      return 'other';
  }
}

/** The byte length from which a line (BusyBox) or command (toybox) may have been cut. */
function cutThresholdBytes(flavor: PsFlavor, dataLines: string[]): number {
  switch (flavor) {
    case 'busybox':
      return TRUNCATION.busyboxLineBytes;
    case 'busybox-nodesktop': {
      const longest = Math.max(0, ...dataLines.map(utf8Length));
      return longest <= TRUNCATION.nodesktopNarrowMaxLineBytes
        ? TRUNCATION.nodesktopLineBytes
        : TRUNCATION.nodesktopWideLineBytes;
    }
    case 'toybox':
      return TRUNCATION.toyboxCommandBytes;
    default:
      return Infinity; // procps reads the whole cmdline and, without a tty or with ww, never cuts
  }
}

function parseLine(line: string, layout: Layout, cutAt: number): PsRow | null {
  const reader = new LineReader(line, layout.unitsAreBytes);
  const values = new Map<Role, string>();
  let command = '';
  const { columns } = layout;
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c]!;
    const next = columns[c + 1];
    if (!next && col.role === 'text') {
      command = reader.rest(col);
    } else if (next && (col.role === 'comm' || col.role === 'text')) {
      values.set(col.role, reader.fixedText(col, next));
    } else {
      const value = reader.token(col.role === 'pid' || col.role === 'ppid', columns[c - 1], next);
      if (value === null) return null; // a value is missing: not a process line
      if (!values.has(col.role)) values.set(col.role, value);
    }
  }
  return buildRow(values, command, layout, line, cutAt);
}

/**
 * Reads one data line column by column. Offsets are in `at` units: bytes for BusyBox (it pads
 * with sprintf widths), characters otherwise. `aligned` stays true while every value sits between
 * its neighbours' titles; then a left-aligned value starts exactly under its title, which keeps
 * its leading spaces. Once a wide value shifted the line (a 7-digit PID in BusyBox's 5-wide
 * column), values are found by skipping spaces instead.
 */
class LineReader {
  private readonly chars: string[];
  private readonly at: number[];
  private pos = 0;
  private aligned = true;

  constructor(line: string, unitsAreBytes: boolean) {
    this.chars = Array.from(line); // code points, so nothing splits a character
    this.at = new Array<number>(this.chars.length + 1);
    this.at[0] = 0;
    for (let i = 0; i < this.chars.length; i++) {
      this.at[i + 1] = this.at[i]! + (unitsAreBytes ? utf8Length(this.chars[i]!) : 1);
    }
  }

  /** A value without spaces; a PID/PPID ends at its last digit (GLUED_NUMBER). */
  token(numeric: boolean, prev: Column | undefined, next: Column | undefined): string | null {
    const { chars } = this;
    this.skipSpaces();
    const start = this.pos;
    while (this.pos < chars.length && chars[this.pos] !== ' ' && (!numeric || isDigit(chars[this.pos]!))) this.pos++;
    if (this.pos === start) return null;
    const follower = chars[this.pos];
    if (numeric && follower !== undefined && follower !== ' ' && !/[A-Za-z]/.test(follower)) return null;
    const afterPrevTitle = prev ? prev.start + prev.title.length + 1 : 0;
    if (this.at[start]! < afterPrevTitle || (next && this.at[this.pos]! >= next.start)) this.aligned = false;
    return chars.slice(start, this.pos).join('');
  }

  /** A left-aligned value that may hold spaces (comm), as wide as the gap to the next title. */
  fixedText(col: Column, next: Column): string {
    const start = this.valueStart(col);
    let end = this.indexAt(this.at[start]! + next.start - col.start - 1);
    if (end < this.chars.length && this.chars[end] !== ' ') {
      // wider than its column (toybox -w does not cut fields): runs on to the next space
      this.aligned = false;
      while (end < this.chars.length && this.chars[end] !== ' ') end++;
    }
    this.pos = end;
    return this.chars.slice(start, end).join('').trimEnd();
  }

  /** The last column: everything to the end of the line, verbatim. */
  rest(col: Column): string {
    this.pos = this.valueStart(col);
    return this.chars.slice(this.pos).join('');
  }

  private valueStart(col: Column): number {
    const underTitle = this.indexAt(col.start);
    const gap = this.chars.slice(this.pos, underTitle);
    if (this.aligned && this.at[this.pos]! < col.start && gap.every((ch) => ch === ' ')) return underTitle;
    this.aligned = false;
    this.skipSpaces();
    return this.pos;
  }

  private skipSpaces(): void {
    while (this.pos < this.chars.length && this.chars[this.pos] === ' ') this.pos++;
  }

  private indexAt(unit: number): number {
    let i = 0;
    while (i < this.at.length - 1 && this.at[i]! < unit) i++;
    return i;
  }
}

function buildRow(values: Map<Role, string>, printed: string, layout: Layout, line: string, cutAt: number): PsRow | null {
  const pid = toInt(values.get('pid'));
  if (pid === null || pid < 1) return null;
  const ppidText = values.get('ppid');
  const ppid = ppidText === undefined ? undefined : toInt(ppidText);
  if (ppid === null) return null;
  let command = printed;
  if (layout.flavor === 'procps' && layout.command === 'argv') command = command.replace(FOREST_ART, '');
  const row: PsRow = { pid, command };
  if (ppid !== undefined) row.ppid = ppid;
  const stat = values.get('stat');
  if (stat !== undefined) row.stat = stat;
  // procps marks zombies `[sh] <defunct>`; give them their state where no STAT column says so.
  else if (layout.flavor === 'procps' && command.endsWith(' <defunct>')) row.stat = 'Z';
  const comm = values.get('comm') ?? (layout.command === 'comm' ? command : undefined);
  if (comm !== undefined) row.comm = comm;
  if (isTruncated(layout, line, command, cutAt)) row.truncated = true;
  return row;
}

/** procps `--forest` draws the tree into the command column: ` \_ `, `     \_ `, ` |   \_ `. */
const FOREST_ART = /^[ |]*\\_ /;

function isTruncated(layout: Layout, line: string, command: string, cutAt: number): boolean {
  if (layout.command === 'argv-cut' || layout.command === 'comm' || layout.command === 'other') return true;
  if (layout.flavor === 'toybox') return utf8Length(command) >= cutAt;
  return utf8Length(line) >= cutAt;
}

/**
 * GLUED_NUMBER: BusyBox desktop pads each column with `width - len + 1` spaces, so a 6-digit value
 * in the 5-wide PID/PPID columns gets NO separator: pid 123456 with ppid 123457 prints
 * `123456123457` (procps/ps.c format_process; procps and toybox size PID columns from pid_max).
 * Container PIDs pass 99999 on hosts with pid_max 4194304 (systemd's default) after ~100k forks
 * and threads — every exec of ours is one. The ladder therefore puts STAT (always a letter first)
 * after each number: `123456S    123457S    node …` splits at the letter.
 */
const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';

function toInt(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= 0x7fffffff ? n : null;
}

/** UTF-8 byte length; lone surrogates count 3 (what TextEncoder writes for them). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
