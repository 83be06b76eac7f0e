// Whether an exec's exit status is the program's, or the runtime's word that the program never
// started. Callers read the program's status (kill: 1 = a PID had exited; ps: options rejected),
// so a start failure must never pass for one: at pids.max a `kill` that never ran was taken as
// sent, and its targets were then "still alive after SIGKILL" (Podman 4.3.1, this host).
import type { ExecResult } from './exec.ts';

/**
 * Start failures, verbatim:
 * - Podman 4.3.1 + runc 1.1.5 at pids.max, exit 125 ("the error is with Podman itself"), stderr:
 *   `Error: runc: exec failed: unable to start container process: read init-p: connection reset by peer: OCI runtime error`
 * - Docker 20.10/26 + runc at pids.max, exit 126, on the exec's stdout stream (see below):
 *   `OCI runtime exec failed: exec failed: unable to start container process: read init-p: connection reset by peer: unknown`
 * - runc itself unable to make a thread at pids.max, a Go crash, exit 2, stderr:
 *   `runtime/cgo: pthread_create failed: Resource temporarily unavailable`
 */
const START_FAILED = /OCI runtime|unable to start container process|runtime\/cgo: pthread_create failed/;
/** Exit statuses of an exec whose program is not there or cannot be run (Docker's and runc's 126/127). */
export const PROGRAM_MISSING_STATUS: ReadonlySet<number> = new Set([126, 127]);
/** The program is not in the image (126/127): the caller's own answer (host route, "no ps"). */
const PROGRAM_MISSING = /executable file not found|no such file or directory/i;
/** Podman's status for its own errors (docs.podman.io, podman-exec "Exit Status"). */
const PODMAN_OWN_ERROR = 125;
/** moby's status for an exec it could not start; a missing program too (the real capture sh-c-kill-l.rc is 126). */
const MOBY_START_FAILED = 126;

/** The exec's program is not in the image: 126/127 and the runtime's words for it (toybox sh-c-kill-l.txt). */
export function programMissing(r: Pick<ExecResult, 'exitCode' | 'stdout' | 'stderr'>): boolean {
  return r.exitCode !== null && PROGRAM_MISSING_STATUS.has(r.exitCode) && PROGRAM_MISSING.test(`${r.stdout}\n${r.stderr}`);
}

/** The reason the program never ran, or null when the status is the program's. */
export function execStartFailure(r: ExecResult): string | null {
  if (programMissing(r)) return null;
  if (r.exitCode === PODMAN_OWN_ERROR || START_FAILED.test(r.stderr)) return firstLine(r.stderr) ?? `exit ${r.exitCode}`;
  // moby's API writes the start error to the exec's stdout stream, not stderr, as its only output
  // and ended by "\r\n" (postContainerExecStart in moby's api/server/router/container/exec.go;
  // the real capture test/fixtures/ps/toybox-0.8.9-debian/sh-c-kill-l.txt). Only its first line
  // and only with moby's 126: a program that ran may print these words (a ps listing an engine).
  const engineLine = firstLine(r.stdout);
  if (r.exitCode === MOBY_START_FAILED && engineLine !== null && START_FAILED.test(engineLine)) return engineLine;
  return null;
}

function firstLine(text: string): string | null {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? null;
}
