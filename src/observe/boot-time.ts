// When a process started, as a date: its start time in /proc/<pid>/stat counts clock ticks since
// boot, and /proc/stat's `btime` says when the host booted. Every module that turns one into the
// other takes both from here.
import { readText } from './fs.ts';

/**
 * USER_HZ, the unit of /proc/<pid>/stat's starttime: 100 on every Linux architecture Docker
 * supports (x86, arm, arm64, ppc64le, s390x: the kernel fixes USER_HZ at 100 for userspace;
 * `getconf CLK_TCK` prints 100 on this host). Bun has no sysconf().
 */
export const USER_HZ = 100;

/**
 * How long one read of btime serves. The kernel computes btime on each read as the wall clock
 * minus the time since boot (getboottime64 in fs/proc/stat.c, https://github.com/torvalds/linux),
 * so a step of the wall clock (settimeofday, an NTP step) moves it: a monitor that kept its first
 * reading for days would date processes by a clock that is no longer the engine's. One second
 * covers every container of one audit or one monitor cycle with a single read.
 */
const BOOT_TIME_REUSE_MS = 1_000;

/** The `btime` line of /proc/stat ("btime %llu\n" in fs/proc/stat.c): seconds since the epoch; null when absent. */
export function parseBootTime(procStat: string): number | null {
  const m = /^btime (\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : null;
}

/** When a process started, in ms since the epoch, from its starttime ticks and the boot time. */
export function startedAtMs(startTicks: number, bootTimeSeconds: number): number {
  return bootTimeSeconds * 1000 + (startTicks * 1000) / USER_HZ;
}

const recentReads = new Map<string, { atMs: number; seconds: Promise<number | null> }>();

/** btime of `${procRoot}/stat`, read at most once per BOOT_TIME_REUSE_MS; null when unreadable. */
export function readBootTimeSeconds(procRoot: string, nowMs = performance.now()): Promise<number | null> {
  const recent = recentReads.get(procRoot);
  if (recent && nowMs - recent.atMs < BOOT_TIME_REUSE_MS) return recent.seconds;
  const seconds = readText(`${procRoot}/stat`).then((text) => {
    const parsed = text === null ? null : parseBootTime(text);
    // a failed read is not kept: the next caller reads again
    if (parsed === null && recentReads.get(procRoot)?.seconds === seconds) recentReads.delete(procRoot);
    return parsed;
  });
  recentReads.set(procRoot, { atMs: nowMs, seconds });
  return seconds;
}
