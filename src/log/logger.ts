// Every action is one JSONL line. pino without transports: transports run in worker threads that
// crash compiled Bun binaries. pino formats; LineSink writes (synchronously, O_APPEND, and never
// throwing: a full disk must not stop a ladder half-way; see line-sink.ts).
import pino from 'pino';
import { writeSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { LineSink } from './line-sink.ts';

export type EventName =
  | 'step'
  | 'kill'
  | 'restart'
  | 'restart-suppressed'
  | 'restart-skipped'
  | 'busy'
  | 'notice'
  | 'result'
  | 'reap'
  | 'error'
  | 'start'
  | 'stop'
  | 'heartbeat'
  | 'engine-down'
  | 'engine-up'
  | 'skipped'
  | 'notify';

export interface ActionFields {
  event: EventName;
  container?: string;
  containerId?: string;
  step?: string;
  signal?: string;
  pids?: number[];
  hostPids?: number[];
  commands?: string[];
  reason?: string;
  dryRun?: boolean;
  [key: string]: unknown;
}

export interface ActionLog {
  info(fields: ActionFields, msg?: string): void;
  warn(fields: ActionFields, msg?: string): void;
  error(fields: ActionFields, msg?: string): void;
  /** SIGHUP: reopen the file (logrotate moved it away). */
  reopen(): void;
  /** Write what is held; at the end of a run, print on stderr what still could not be written. */
  flush(): void;
  /** Lines that never reached the log (after flush: the run's log is incomplete). */
  readonly lost: number;
}

/** stderr, best effort: the one thing left to say a log problem on. */
function sayOnStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr gone too: nothing left to tell
  }
}

export function createActionLog(logFile?: string, say: (text: string) => void = sayOnStderr): ActionLog {
  let dest: LineSink;
  try {
    dest = new LineSink({ path: logFile, say });
  } catch (e) {
    // A missing directory or no permission is the operator's path, not a bug: one line, exit 2
    // (it was exit 70, "internal error", with the bare "ENOENT: no such file or directory, open ...").
    throw new UsageError(`--log-file ${logFile}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const logger = pino(
    {
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return {
    info: (f, msg) => logger.info(f, msg),
    warn: (f, msg) => logger.warn(f, msg),
    error: (f, msg) => logger.error(f, msg),
    reopen: () => dest.reopen(),
    flush: () => dest.close(),
    get lost() {
      return dest.lost;
    },
  };
}
