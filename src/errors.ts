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

export function exitCodeFor(err: unknown): number {
  if (err instanceof PidwardenError) return err.exitCode;
  return EXIT.internal;
}

/** One line for a human: never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
