// Every action is one JSONL line. pino without transports: transports run in worker threads that
// crash compiled Bun binaries. Writes are synchronous and the file is opened with O_APPEND, so each
// line lands whole, even with logrotate's copytruncate or two writers on one file.
import pino from 'pino';
import { UsageError } from '../errors.ts';

export type EventName =
  | 'step'
  | 'kill'
  | 'restart'
  | 'restart-suppressed'
  | 'restart-skipped'
  | 'busy'
  | 'notice'
  | 'result'
  | 'error'
  | 'start'
  | 'stop'
  | 'heartbeat'
  | 'engine-down'
  | 'engine-up'
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
  flush(): void;
}

export function createActionLog(logFile?: string): ActionLog {
  let dest: ReturnType<typeof pino.destination>;
  try {
    dest = logFile
      ? pino.destination({ dest: logFile, append: true, sync: true, mkdir: false })
      : pino.destination({ dest: 1, sync: true });
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
    reopen: () => {
      if (logFile) dest.reopen();
    },
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // nothing buffered in sync mode; flushSync throws when the fd is not ready yet
      }
    },
  };
}
