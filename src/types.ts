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
  /**
   * The container's init, marked where the observation knows it by its host PID (the engine's
   * State.Pid). In a shared PID namespace it is not PID 1. Never a runaway, never a victim.
   */
  init?: boolean;
  /**
   * PID 1 of a PID namespace nested inside the container's (docker:dind's inner containers,
   * sysbox, `unshare -fp`), known from the host's NSpid line (more entries than the container
   * init's, the last one 1). That namespace lives and dies with it, as a container with its init:
   * never a runaway, never a victim (src/decide/main-process.ts).
   */
  nestedInit?: boolean;
}

export type ProcSource = 'ps' | 'host-proc' | 'none';
export type PidsSource = 'cgroup-v1' | 'cgroup-v2' | 'api' | 'none';
/** paused: a paused container (frozen processes), reported as such and never acted on. */
export type Status = 'ok' | 'warn' | 'critical' | 'paused';

/** A pids limit held by a parent that other cgroups below it use too. */
export interface SharedLimit {
  /** The parent's pids.max. */
  max: number;
  /** The parent's pids.current: this container's tasks and the others'. */
  current: number;
}

export interface PidsReading {
  current: number | null;
  /**
   * The effective limit: the smallest pids.max from the container's cgroup up to the root (a
   * slice's TasksMax or a --cgroup-parent limit bites the same way). null means no limit ("max"
   * everywhere, 0 or -1 from the API).
   */
  max: number | null;
  source: PidsSource;
  /** The cgroup directory that gives `max`, when read from the cgroup fs. */
  heldBy?: string;
  /**
   * Set when `heldBy` is a parent shared with other cgroups: its own pids.max and pids.current
   * (`max` is then the room it leaves this container: src/observe/pids-ceiling.ts).
   */
  shared?: SharedLimit;
}

/**
 * How a container sits on this host, as far as identity goes (src/observe/layout.ts decides it).
 * It says which routes pidwarden may use to read and to signal its processes.
 */
export interface Layout {
  /**
   * The host's /proc and host signals may be used: the engine is on a unix socket, the init PID
   * is visible here, started when the engine says, in a cgroup named after the container's ID.
   */
  local: boolean;
  /** Why the host view is not used, when `local` is false. */
  remoteReason?: string;
  /** HostConfig.PidMode as the engine gives it: '' (own namespace), 'host', 'container:<id>'. */
  pidMode: string;
  /**
   * pid=host, pid=container:X, or an init that is not PID 1 of its namespace (the kernel's word,
   * src/observe/layout.ts): `ps` and `kill` inside the container see other processes than its own.
   */
  sharedPidNamespace: boolean;
  /** Why sharedPidNamespace is true: `pid=host`, or what the kernel showed. */
  sharedPidWhy?: string;
  /**
   * Entries in the init's NSpid line (1 = the host's namespace, 2 = one container namespace, ...):
   * a process's PID "in the container" is its NSpid entry at this depth. 0 when unknown (remote).
   */
  nsDepth: number;
  /**
   * The init's PID namespace (the target of /proc/<init>/ns/pid), when local: a process of a
   * sub-cgroup is the container's only in it or in one nested in it (src/observe/pid-namespace.ts).
   */
  pidNamespace?: string;
  /**
   * Host PIDs read from --proc-root are valid signal targets here: that /proc's `self` is us, so
   * its PID numbers are those of our PID namespace. True exactly when `local` is: a host /proc
   * mounted into a pidwarden container without `pid: host` makes the layout remote
   * (src/observe/locality.ts), since its numbers name other processes here.
   */
  hostSignals: boolean;
  /** Set when pidwarden will not act on the container at all; says why. */
  refusal?: string;
}

export interface ProcessTable {
  procs: Proc[];
  source: ProcSource;
  /** Which ps implementation answered, when source is 'ps' (busybox, toybox, procps, ...). */
  flavor?: string;
  /** Why the preferred source was not used, when it was not. */
  fallbackReason?: string;
}
