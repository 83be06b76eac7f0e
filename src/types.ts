// Shared data shapes. Observations flow observe/ -> decide/ -> act/; nothing here does I/O.

/** One process as seen in a container's PID namespace. */
export interface Proc {
  /** PID inside the container's PID namespace (what `ps` in the container prints). */
  pid: number;
  /** Parent PID inside the container; 0 for PID 1 and for `docker exec` sessions. */
  ppid: number;
  /** PID in the host's namespace, when known (host /proc fallback, or NSpid mapping). */
  hostPid?: number;
  /**
   * The command line as one string: argv joined by single spaces, trailing NUL padding removed,
   * UTF-8 intact. npm's retitled processes hold ONE argv string such as
   * `npm exec @21st-dev/magic@latest`.
   */
  command: string;
  /** Kernel comm (≤15 bytes), from /proc/<pid>/stat or a comm column. */
  comm?: string;
  /** One-letter state from /proc/<pid>/stat or ps STAT (first letter): R S D Z T I ... */
  state?: string;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). Identity for reuse checks. */
  startTicks?: number;
  /** Threads (field 20 of /proc/<pid>/stat); pids.current counts every one of them. */
  threads?: number;
  /** True when `command` may be cut short (BusyBox no-desktop cuts lines at 79 bytes). */
  truncated?: boolean;
}

export type ProcSource = 'ps' | 'host-proc' | 'none';
export type PidsSource = 'cgroup-v1' | 'cgroup-v2' | 'api' | 'none';
/** paused: a paused container (frozen processes), reported as such and never acted on. */
export type Status = 'ok' | 'warn' | 'critical' | 'paused';

export interface PidsReading {
  current: number | null;
  /** null means no limit ("max" in the cgroup file, 0 or -1 from the API). */
  max: number | null;
  source: PidsSource;
}

export interface ProcessTable {
  procs: Proc[];
  source: ProcSource;
  /** Which ps implementation answered, when source is 'ps' (busybox, toybox, procps, ...). */
  flavor?: string;
  /** Why the preferred source was not used, when it was not. */
  fallbackReason?: string;
}
