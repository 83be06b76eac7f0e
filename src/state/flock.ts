// flock(2) through libc: Bun and Node have no file-lock API. An flock lock belongs to the open file
// and dies with the process (kill -9 included), so a crashed pidwarden never leaves a stale lock
// behind, unlike a lock file that is only a name. Used for the state file and per-container ladders.
import { dlopen, FFIType } from 'bun:ffi';
import { closeSync, openSync } from 'node:fs';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

/** glibc hosts, then Alpine's musl (x86_64 and aarch64), whose libc has another name. */
const LIBC_NAMES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1'];

type FlockFn = (fd: number, op: number) => number;
let flockFn: FlockFn | null | undefined;

function libcFlock(): FlockFn | null {
  if (flockFn !== undefined) return flockFn;
  flockFn = null;
  for (const name of LIBC_NAMES) {
    try {
      const lib = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      flockFn = (fd, op) => lib.symbols.flock(fd, op) as number;
      break;
    } catch {
      // not this libc: try the next name
    }
  }
  return flockFn;
}

export class LockUnavailableError extends Error {}

/** How often a waiting lockFile tries again. */
const LOCK_POLL_MS = 10;

/**
 * Opens (creating, mode 0600) and locks `path`. Returns the release function, or null when another
 * process holds the lock and `wait` is false, or still holds it after `waitMs` (tried again every
 * LOCK_POLL_MS, blocking this thread: the callers are synchronous). Without `waitMs` a wait has no
 * end, which a holder that is stopped or stuck in D state makes a hang. Throws
 * LockUnavailableError when the file cannot be opened or the host has no usable flock.
 */
export function lockFile(path: string, opts: { exclusive: boolean; wait: boolean; waitMs?: number }): (() => void) | null {
  const flock = libcFlock();
  if (!flock) throw new LockUnavailableError('flock is not available (no libc found)');
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (e) {
    throw new LockUnavailableError(`cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const polled = opts.wait && opts.waitMs !== undefined;
  const op = (opts.exclusive ? LOCK_EX : LOCK_SH) | (opts.wait && !polled ? 0 : LOCK_NB);
  const deadline = performance.now() + (opts.waitMs ?? 0);
  let locked = flock(fd, op) === 0;
  while (!locked && polled && performance.now() < deadline) {
    Bun.sleepSync(LOCK_POLL_MS);
    locked = flock(fd, op) === 0;
  }
  if (!locked) {
    closeSync(fd);
    if (!opts.wait || polled) return null;
    throw new LockUnavailableError(`cannot lock ${path}`);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      closeSync(fd); // closing the last descriptor releases the flock
    } catch {
      // already closed
    }
  };
}
