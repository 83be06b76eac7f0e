// --on-action PROGRAM: the operator's program, run after each action with the facts in its
// environment (earlyoom's -N does the same: https://github.com/rfjakob/earlyoom#notifications).
// argv is the program alone, never a shell string; it gets a deadline, and its exit status and the
// start of its stderr go to the log.
import { accessSync, constants, statSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { ActionLog } from '../log/logger.ts';
import type { Action } from './action.ts';
import { MAX_COMMANDS } from './format.ts';
import { HookGroup } from './hook-group.ts';
import { SerialQueue } from './queue.ts';

/** A hook that has not finished in 10 s is killed: long enough for a curl to a slow chat service. */
export const ON_ACTION_TIMEOUT_MS = 10_000;
/** Bytes of the hook's stderr kept for the log: enough for an error line, not a flood. */
export const STDERR_KEEP = 512;
/** Actions waiting for the hook; beyond this they are dropped and counted (a storm of 200 kills a minute). */
const BACKLOG = 100;

export function checkProgram(path: string): void {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    accessSync(path, constants.X_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new UsageError(`--on-action ${path}: not an executable file (${why})`);
  }
}

/**
 * Bytes of one command line in PIDWARDEN_COMMANDS. Linux refuses any one environment string over
 * 128 KiB (MAX_ARG_STRLEN) with E2BIG, and a command line from /proc can be that long by itself:
 * 20 lines of at most 4 KiB stay under 82 KiB.
 */
export const COMMAND_LINE_MAX_BYTES = 4096;

/**
 * PIDs listed in PIDWARDEN_PIDS. A PID is at most 7 digits (pid_max tops out at 4,194,304, the
 * kernel's PID_MAX_LIMIT), 8 bytes with its space: 10,000 of them stay under 80,000 bytes, as far
 * below the 128 KiB MAX_ARG_STRLEN as PIDWARDEN_COMMANDS's 82 KiB; with no cap the hook failed to
 * start (E2BIG) from about 16,000 victims. Far above the 1,500 of the biggest storm seen.
 */
export const MAX_PIDS = 10_000;

/** `s` cut to at most `max` bytes of UTF-8, never inside a character, "…" marking the cut. */
function cutToBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const ELLIPSIS_BYTES = 3;
  return Buffer.from(s).subarray(0, max - ELLIPSIS_BYTES).toString('utf8').replace(/\uFFFD+$/, '') + '…';
}

/**
 * The facts, named as in the README (Metrics and notifications); PIDWARDEN_COMMANDS one command line
 * a line, the first MAX_COMMANDS of them as in the JSON webhook, PIDWARDEN_COMMANDS_OMITTED the rest's
 * count: 1,500 victims' lines in one variable made the hook fail to start (E2BIG) on the biggest storms.
 * PIDWARDEN_PIDS likewise: the first MAX_PIDS, PIDWARDEN_PIDS_OMITTED the rest's count.
 */
export function actionEnv(a: Action): Record<string, string> {
  const clean = (s: string) => s.replace(/\0/g, ' ');
  const listed = a.commands.slice(0, MAX_COMMANDS);
  const pids = a.pids.slice(0, MAX_PIDS);
  return {
    PIDWARDEN_EVENT: a.event,
    PIDWARDEN_CONTAINER: a.container,
    PIDWARDEN_CONTAINER_ID: a.containerId,
    PIDWARDEN_STEP: a.step,
    PIDWARDEN_PIDS: pids.join(' '),
    PIDWARDEN_PIDS_OMITTED: String(a.pids.length - pids.length),
    PIDWARDEN_COMMANDS: listed.map((c) => cutToBytes(clean(c).replace(/\n/g, ' '), COMMAND_LINE_MAX_BYTES)).join('\n'),
    PIDWARDEN_COMMANDS_OMITTED: String(a.commands.length - listed.length),
    PIDWARDEN_ERRORS: a.errors.slice(0, MAX_COMMANDS).map((e) => cutToBytes(clean(e).replace(/\n/g, ' '), COMMAND_LINE_MAX_BYTES)).join('\n'),
    PIDWARDEN_REASON: clean(a.reason),
    PIDWARDEN_DRY_RUN: a.dryRun ? 'true' : 'false',
  };
}

export class OnActionRunner {
  private readonly queue = new SerialQueue(BACKLOG);
  /** Hooks whose deadline has not passed yet, the running one and any that exited leaving children. */
  private readonly groups = new Set<HookGroup>();
  private readonly baseEnv: Record<string, string>;

  constructor(
    private readonly program: string,
    private readonly log: ActionLog,
    env: Record<string, string | undefined> = process.env,
    private readonly timeoutMs = ON_ACTION_TIMEOUT_MS,
  ) {
    // pidwarden's own PIDWARDEN_* settings are not the hook's business (and would be mistaken for facts).
    this.baseEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('PIDWARDEN_')));
  }

  run(a: Action): void {
    const dropped = this.queue.dropped;
    this.queue.push(() => this.runOne(a));
    if (this.queue.dropped > dropped) {
      this.log.warn({ event: 'notify', channel: 'on-action', container: a.container, containerId: a.containerId, action: a.event, reason: `backlog of ${BACKLOG} full: not run` });
    }
  }

  /**
   * Waits for the queued hooks and for what they left running, until their own deadlines or
   * `deadlineMs`; whatever is still there then is killed now, since nobody would be left to kill it
   * at its deadline once pidwarden has exited.
   */
  async drain(deadlineMs: number): Promise<void> {
    await this.queue.drain(deadlineMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const until = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadlineMs - Date.now()))));
    await Promise.race([Promise.all([...this.groups].map((g) => g.ended)), until]);
    clearTimeout(timer);
    for (const g of this.groups) g.killNow();
  }

  private async runOne(a: Action): Promise<void> {
    const started = Date.now();
    const ids = { container: a.container, containerId: a.containerId, action: a.event, channel: 'on-action', program: this.program };
    let proc: Bun.Subprocess<'ignore', 'ignore', 'pipe'>;
    try {
      // A process group of its own, so that the deadline reaches the hook's children too (a `curl`
      // to a receiver that never answers): killing only the hook left them running, each holding
      // the stderr pipe, one orphan and one open fd per action for the monitor's whole life.
      proc = Bun.spawn([this.program], { env: { ...this.baseEnv, ...actionEnv(a) }, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', detached: true });
    } catch (e) {
      this.log.warn({ event: 'notify', ...ids, reason: `cannot run: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      return;
    }
    const kept = new StderrStart(STDERR_KEEP, proc.stderr);
    const group = new HookGroup(proc.pid, this.timeoutMs, kept);
    this.groups.add(group);
    void group.ended.then(() => this.groups.delete(group));
    const exitCode = await proc.exited;
    const timedOut = group.expired;
    group.leaderExited();
    // A child left running may hold stderr open: wait a moment for the rest, no longer. The child
    // itself is the group's business: killed at the deadline if still there, its stderr read till then.
    let linger: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([kept.done, new Promise((r) => (linger = setTimeout(r, STDERR_LINGER_MS)))]);
    clearTimeout(linger);
    const stderr = kept.text();
    const ok = exitCode === 0 && !timedOut;
    const fields = {
      event: 'notify' as const,
      ...ids,
      exitCode,
      ...(proc.signalCode ? { signal: String(proc.signalCode) } : {}),
      stderr,
      durationMs: Date.now() - started,
      reason: timedOut ? `killed after the ${this.timeoutMs / 1000} s deadline` : ok ? 'ran' : `exited with ${exitCode}`,
    };
    if (ok) this.log.info(fields);
    else this.log.warn(fields);
  }
}

/** After the hook exits, how long its stderr may still deliver its last bytes. */
const STDERR_LINGER_MS = 1000;

/**
 * The first `max` bytes of a stream; the rest is read and thrown away so the child never blocks on
 * a full pipe. Reads until the stream ends or stop(): a child that escaped the group may hold it
 * open for ever, and a reader per action left waiting would pile up over a monitor's weeks.
 */
class StderrStart {
  private readonly chunks: Uint8Array[] = [];
  private kept = 0;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly done: Promise<void>;

  constructor(
    private readonly max: number,
    stream: ReadableStream<Uint8Array>,
  ) {
    this.reader = stream.getReader();
    this.done = this.read();
  }

  /** Ends the read and lets go of the pipe (Bun closes our end once the reader is cancelled). */
  stop(): void {
    this.reader.cancel().catch(() => undefined);
  }

  private async read(): Promise<void> {
    try {
      for (let r = await this.reader.read(); !r.done; r = await this.reader.read()) {
        if (this.kept >= this.max) continue;
        const part = r.value.subarray(0, this.max - this.kept);
        this.chunks.push(part);
        this.kept += part.length;
      }
    } catch {
      // the pipe broke: what was read is what there is
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8').replace(/\uFFFD+$/, '');
  }
}
