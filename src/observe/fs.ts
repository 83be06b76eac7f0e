// Small file readers for /proc and the cgroup fs. Both are pseudo-files: sizes lie (stat says 0 or
// 4096), so read whole; a vanished process is ENOENT/ESRCH, which callers treat as "gone", not error.
//
// readText reads synchronously: the files it is used for (a process's stat and status, /proc/stat,
// mountinfo, cgroup counters) are made by the kernel on the spot without waiting on the process
// (no mmap lock), and a synchronous read costs far less than a promise-based one (readFile from
// node:fs/promises goes through a worker thread): stat, status and cmdline of this host's 113
// processes took 4-5 ms synchronously, 6-14 ms through the promises (measured). readBytes stays
// asynchronous: it reads cmdline, which takes the process's mmap lock and can wait on a process
// stuck holding it; a read stuck there must not stop the run.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export async function readText(path: string): Promise<string | null> {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * How long a cmdline read may wait. A read of a live process's cmdline takes microseconds; one
 * still waiting after 2 s waits on a process stuck holding its mmap lock (D state), often the very
 * reason its container's `ps` timed out, and may wait for ever: the process is then shown by its
 * comm, as a zombie is, and a run (or a monitor's watch of that container, which also holds a probe
 * slot) goes on instead of hanging.
 */
export const CMDLINE_READ_DEADLINE_MS = 2000;

/** The file's bytes; null when it cannot be read, or not within `deadlineMs` (the read is abandoned). */
export async function readBytes(path: string, deadlineMs = CMDLINE_READ_DEADLINE_MS): Promise<Uint8Array | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), deadlineMs);
  });
  try {
    return await Promise.race([readFile(path).catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
