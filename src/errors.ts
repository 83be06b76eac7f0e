// Typed errors, and the one table that maps them to exit codes (only main.ts exits).

export class PidwardenError extends Error {
  readonly exitCode: number = 1;
}

/** Bad flags, bad values, bad config file, a named container that does not exist. */
export class UsageError extends PidwardenError {
  override readonly exitCode = 2;
}

/** The engine's socket or TCP endpoint does not answer. */
export class EngineUnreachableError extends PidwardenError {
  override readonly exitCode = 3;
}

/** Another monitor already holds the pid file. */
export class AlreadyRunningError extends PidwardenError {
  override readonly exitCode = 2;
}

export const EXIT = {
  ok: 0,
  unhealthy: 1,
  usage: 2,
  engineUnreachable: 3,
  /** cleanup: every action was carried out, but log lines could not be written (stderr has them). */
  logIncomplete: 4,
  internal: 70, // EX_SOFTWARE from sysexits.h: a bug, not the user's fault
} as const;

/** What each exit code means, for --help and the man page (README "Exit codes" has the long form). */
export const EXIT_MEANINGS: readonly (readonly [code: number, meaning: string])[] = [
  [EXIT.ok, 'ok: nothing critical (audit), every selected container healthy (cleanup), stopped by SIGTERM/SIGINT (monitor)'],
  [EXIT.unhealthy, 'a container is critical (audit) or still unhealthy after the allowed steps, skipped for a malformed label, or busy in another pidwarden (cleanup)'],
  [EXIT.usage, 'usage or config error, a named container that does not exist, nothing selected (cleanup), another monitor holds --pid-file'],
  [EXIT.engineUnreachable, 'engine unreachable, or answering errors or malformed data (audit, cleanup; the monitor waits for it instead)'],
  [EXIT.internal, 'internal error: a bug in pidwarden'],
];

export function exitCodeFor(err: unknown): number {
  if (err instanceof PidwardenError) return err.exitCode;
  return EXIT.internal;
}

/** One line for a human: never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
