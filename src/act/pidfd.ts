// pidfd_open(2) and pidfd_send_signal(2) (Linux 5.1/5.3): a file descriptor that refers to one
// process, not to a PID number, so a signal sent through it can never reach a process that got
// the same PID after the one we checked exited. Bun has no pidfd API; bun:ffi calls libc's
// syscall(2) (works inside the `bun build --compile` binary: test/integration/layouts.test.ts
// checks that the host route reports `pidfd: true` on this host). Without glibc (a musl image), on
// an older kernel, or under a seccomp profile that refuses pidfd_open, every function here answers
// "unsupported" and identity.ts falls back to verify-then-kill.
import { dlopen, FFIType, read } from 'bun:ffi';

/** Syscall numbers: the same on x86_64, arm64 and every other architecture since Linux 5.1. */
const SYS_PIDFD_SEND_SIGNAL = 424n;
const SYS_PIDFD_OPEN = 434n;
const ENOSYS = 38;
const EPERM = 1;

export type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

function openLibc() {
  return dlopen('libc.so.6', {
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
}

function lib(): Libc | null {
  if (libc === undefined) {
    try {
      libc = openLibc();
    } catch {
      libc = null;
    }
  }
  return libc;
}

function errno(l: Libc): number {
  const p = l.symbols.__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

export type PidfdOpen = { fd: number } | { errno: number } | 'unsupported';

/** A pidfd for a host PID; `{ errno: 3 }` (ESRCH) when the process is gone. */
export function pidfdOpen(hostPid: number): PidfdOpen {
  const l = lib();
  if (l === null) return 'unsupported';
  const fd = Number(l.symbols.syscall(SYS_PIDFD_OPEN, BigInt(hostPid), 0n, 0n, 0n));
  if (fd >= 0) return { fd };
  const e = errno(l);
  // ENOSYS: the kernel has none (< 5.3). EPERM: pidfd_open checks no permission, so that is a
  // seccomp profile refusing the syscall (Docker's default one did before 20.10), for every PID
  // alike. Either way never ask again: check, then kill(2), as without pidfds.
  if (e === ENOSYS || e === EPERM) {
    libc = null;
    return 'unsupported';
  }
  return { errno: e };
}

/** Sends `signo` through the pidfd: 0, or the errno (ESRCH: it exited, EPERM: not allowed). */
export function pidfdSendSignal(fd: number, signo: number): number {
  const l = lib();
  if (l === null) return ENOSYS;
  const r = Number(l.symbols.syscall(SYS_PIDFD_SEND_SIGNAL, BigInt(fd), BigInt(signo), 0n, 0n));
  return r === 0 ? 0 : errno(l);
}

export function closeFd(fd: number): void {
  lib()?.symbols.close(fd);
}

/** Tests only: a stand-in for libc (a seccomp refusal cannot be staged otherwise); undefined opens the real one again. */
export function replaceLibcForTests(stand: Libc | null | undefined): void {
  libc = stand;
}
