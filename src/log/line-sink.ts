// Where the JSONL lines go: a file opened O_APPEND (each line lands whole, even with logrotate's
// copytruncate or two writers on one file) or stdout. Written synchronously, and never throws: a
// log that cannot be written (disk full, EIO, EPIPE on stdout, a SIGHUP reopen that fails) must
// not stop a kill or a restart half-way. Lines that could not be written are held (at most
// MAX_HELD_LINES, oldest dropped first) and written again before the next line; the failure is
// said once on stderr when it starts and once when it is over; what is still held at close is
// printed on stderr, so the record of what was done is not lost.
import { closeSync, openSync, writeSync } from 'node:fs';

/** ~300 bytes a line: 1000 lines are ~300 KiB of memory at most, a long failure's worth of actions. */
const MAX_HELD_LINES = 1000;
/** A non-blocking stdout that is full (EAGAIN): retry every 1 ms for at most 1 s, then hold the line. */
const EAGAIN_RETRIES = 1000;

export interface LineSinkOptions {
  /** The file to append to; without it, stdout. */
  path?: string;
  /** One human line to stderr. */
  say: (text: string) => void;
}

export class LineSink {
  private fd: number;
  private readonly held: Buffer[] = [];
  private dropped = 0;
  /** Lines already reported lost at a close (printed on stderr, or dropped before). */
  private reported = 0;
  /** The error code of the failure in progress; null while lines are written. */
  private failing: string | null = null;
  private readonly where: string;

  /** Throws (ENOENT, EACCES, ...) when the file cannot be opened at all: the caller says so. */
  constructor(private readonly opts: LineSinkOptions) {
    this.fd = opts.path ? openSync(opts.path, 'a') : 1;
    this.where = opts.path ?? 'stdout';
  }

  write(line: string): void {
    this.held.push(Buffer.from(line, 'utf8'));
    if (this.held.length > MAX_HELD_LINES) {
      this.held.shift();
      this.dropped++;
    }
    this.drain();
  }

  /** Lines that never reached the log (dropped, still held, or printed on stderr at close). */
  get lost(): number {
    return this.dropped + this.held.length + this.reported;
  }

  /** SIGHUP: open the path again (logrotate moved the file away); on failure keep the old file. */
  reopen(): void {
    if (!this.opts.path) return;
    let fd: number;
    try {
      fd = openSync(this.opts.path, 'a');
    } catch (e) {
      this.opts.say(`pidwarden: SIGHUP: cannot reopen ${this.opts.path} (${codeOf(e)}); still writing to the file opened before\n`);
      return;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      closeSync(old);
    } catch {
      // already closed or bad: the new fd is what matters
    }
    this.drain();
  }

  /** Last try; whatever is still held is printed on stderr. */
  close(): void {
    this.drain();
    if (this.held.length === 0 && this.dropped === 0) return;
    const lines = this.held.map((b) => b.toString('utf8')).join('');
    this.opts.say(
      `pidwarden: ${this.dropped + this.held.length} log line(s) could not be written to ${this.where} (${this.failing ?? 'error'})` +
        (this.dropped ? `, ${this.dropped} of them dropped while waiting` : '') +
        (lines ? `; the ${this.held.length} held:\n${lines}` : '\n'),
    );
    this.reported += this.dropped + this.held.length;
    this.dropped = 0;
    this.held.length = 0;
  }

  private drain(): void {
    if (this.held.length === 0) return; // nothing written: no news about the log either way
    while (this.held.length > 0) {
      const buf = this.held[0]!;
      let n: number;
      try {
        n = writeRetryingEagain(this.fd, buf);
      } catch (e) {
        this.failed(codeOf(e));
        return;
      }
      if (n < buf.length) {
        // A short write (the disk filled up mid-line): the rest goes first next time, so the line
        // still ends up whole in the file.
        this.held[0] = buf.subarray(n);
        this.failed('ENOSPC');
        return;
      }
      this.held.shift();
    }
    this.recovered();
  }

  private failed(code: string): void {
    if (this.failing !== null) return;
    this.failing = code;
    this.opts.say(
      `pidwarden: cannot write the log to ${this.where} (${code}); actions go on, their log lines are kept and written again later\n`,
    );
  }

  private recovered(): void {
    if (this.failing === null) return;
    this.opts.say(`pidwarden: the log to ${this.where} is written again${this.dropped ? ` (${this.dropped} line(s) dropped meanwhile)` : ''}\n`);
    this.failing = null;
  }
}

function writeRetryingEagain(fd: number, buf: Buffer): number {
  for (let tries = 0; ; tries++) {
    try {
      return writeSync(fd, buf, 0, buf.length);
    } catch (e) {
      if (codeOf(e) !== 'EAGAIN' || tries >= EAGAIN_RETRIES) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}
