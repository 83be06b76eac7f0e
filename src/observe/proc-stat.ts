// Parsers for /proc/<pid>/stat, /proc/<pid>/cmdline and /proc/<pid>/status text. Pure; never throw.
// Field numbers are those of proc(5).

export interface StatRecord {
  /** Field 1. */
  pid: number;
  /** Field 2 without its parentheses: ≤15 bytes, may hold spaces, '(', ')' and even '\n'. */
  comm: string;
  /** Field 3: R S D Z T t X I ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 20 (num_threads). */
  threads: number;
  /** Field 22 (starttime), clock ticks since boot: with the PID, a process's identity. */
  startTicks: number;
}

/** TASK_COMM_LEN is 16 bytes with the NUL, so comm has at most 15 bytes, hence ≤15 characters. */
const COMM_MAX = 15;
/** Fields after comm that we need: state (3) … starttime (22) → 20 of them. */
const FIELDS_AFTER_COMM = 20;
const RECORD_HEAD = /[ \t]*(\d+) \(/y;

/**
 * Records of `cat /proc/<a>/stat /proc/<b>/stat …` (one per line, in file order). Lines that are
 * not stat records (an error message that reached stdout, a cut-off last line) are skipped.
 * comm is closed by the LAST ')' within its 15-byte reach: `102 (evil) Z 1 (tail) S 1 …` has comm
 * `evil) Z 1 (tail` (fixture cat-proc-104-stat.txt, BusyBox 1.35 variant). Looking no further
 * than 16 characters also keeps a ')' in a later record from being taken, and a comm holding a
 * newline from splitting its record in two.
 */
export function parseProcStats(text: string): StatRecord[] {
  const records: StatRecord[] = [];
  if (typeof text !== 'string') return records;
  let at = 0;
  while (at < text.length) {
    const parsed = recordAt(text, at);
    if (parsed) {
      records.push(parsed.record);
      at = parsed.next;
    } else {
      const nl = text.indexOf('\n', at);
      at = nl < 0 ? text.length : nl + 1;
    }
  }
  return records;
}

function recordAt(text: string, at: number): { record: StatRecord; next: number } | null {
  RECORD_HEAD.lastIndex = at;
  const head = RECORD_HEAD.exec(text);
  if (!head) return null;
  const pid = Number(head[1]);
  const commStart = at + head[0].length;
  const close = text.slice(commStart, commStart + COMM_MAX + 1).lastIndexOf(')');
  if (close < 0) return null;
  const restStart = commStart + close + 1;
  const nl = text.indexOf('\n', restStart);
  const restEnd = nl < 0 ? text.length : nl;
  // Only the 20 fields read are split out (a stat line has 50).
  const fields = text.slice(restStart, restEnd).trim().split(/\s+/, FIELDS_AFTER_COMM);
  if (fields.length < FIELDS_AFTER_COMM) return null;
  const state = fields[0]!;
  const ppid = wholeNumber(fields[1]);
  const threads = wholeNumber(fields[17]);
  const startTicks = wholeNumber(fields[19]);
  if (!/^[A-Za-z]$/.test(state) || pid < 1 || !Number.isSafeInteger(pid)) return null;
  if (ppid === null || threads === null || startTicks === null) return null;
  const record = { pid, comm: text.slice(commStart, commStart + close), state, ppid, threads, startTicks };
  return { record, next: restEnd + 1 };
}

/**
 * Digits only (no sign, space, '0x' or exponent, all of which Number() would take). A loop rather
 * than /^\d+$/: an audit parses ~1,000 stat records once each, mostly before the JIT has warmed
 * up, and a sampling profile of an audit of 30 containers put 18 of its 160 ms in that regex (a
 * profile overstates it; measured without one, parsing got 1-3 ms faster: see the README's
 * Performance).
 */
function wholeNumber(text: string | undefined): number | null {
  if (text === undefined || text.length === 0) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * /proc/<pid>/cmdline → argv joined by single spaces. Trailing NULs are padding, not arguments:
 * npm (libuv's uv_set_process_title) writes its title over the whole argv area as ONE string and
 * zero-fills the rest, e.g. `npm exec sleepy-mcp mcp start` + 15 NULs (fixture
 * _host-real-npm-exec/t+1min/proc-comm-stat-cmdline-status.txt, pid 6724). An interior empty
 * argument stays visible as two adjacent spaces, as every ps prints it. Bytes are decoded as UTF-8
 * (invalid sequences become U+FFFD).
 */
export function parseCmdline(bytes: Uint8Array | string): string {
  const text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  return text.replace(/\0+$/, '').split('\0').join(' ');
}

const utf8 = new TextDecoder('utf-8');

/**
 * The `NSpid:` line of /proc/<pid>/status (Linux ≥ 4.1): the PID in each nested PID namespace,
 * outermost (that of the /proc mount) first, so the LAST number is the PID inside the container.
 * null when the line is absent or malformed.
 */
export function parseNsPid(statusText: string): number[] | null {
  const numbers = statusField(statusText, 'NSpid');
  if (numbers === null) return null;
  const pids = numbers.split(/\s+/).map(wholeNumber);
  return pids.length > 0 && pids.every((p): p is number => p !== null && p > 0) ? pids : null;
}

/** The `Threads:` line of /proc/<pid>/status; null when absent or malformed. */
export function parseStatusThreads(statusText: string): number | null {
  const value = statusField(statusText, 'Threads');
  return value === null ? null : wholeNumber(value);
}

/** The `PPid:` line of /proc/<pid>/status (0 for a namespace's init seen from inside); null when absent. */
export function parseStatusPpid(statusText: string): number | null {
  const value = statusField(statusText, 'PPid');
  return value === null ? null : wholeNumber(value);
}

/** The value of the first `name:` line; found with indexOf, not by splitting 55 lines per process. */
export function statusField(statusText: string, name: string): string | null {
  if (typeof statusText !== 'string') return null;
  const head = `${name}:`;
  const at = statusText.startsWith(head) ? 0 : statusText.indexOf(`\n${head}`) + 1;
  if (at === 0 && !statusText.startsWith(head)) return null;
  const end = statusText.indexOf('\n', at);
  const value = statusText.slice(at + head.length, end < 0 ? statusText.length : end).trim();
  return value === '' ? null : value;
}
