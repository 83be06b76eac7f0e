// The PID namespace of a container's init, read from the host's /proc only while the process at
// the engine's init PID is shown to be that init. The PID comes from an inspect; by the time
// /proc/<pid>/ns/pid is read the init may have exited and its PID been handed to another process
// (PIDs wrap at pid_max, 32768 by default, sooner on a host that forks thousands of `npm exec`
// trees), whose namespace would be taken for the container's. So the process must be the init
// before the link is read, by the checks locality.ts makes of every init (forked while the engine
// started the container, in a cgroup named after the container's full ID), and still the same
// process after: a PID reused in between started later, so its start time differs.
import { readFileSync, readlinkSync } from 'node:fs';
import type { ContainerInfo } from '../engine/containers.ts';
import { inContainerCgroup } from '../engine/exec-reaper.ts';
import { readBootTimeSeconds } from './boot-time.ts';
import { startMatches } from './layout.ts';
import { parseProcStats } from './proc-stat.ts';

export type InitOf = Pick<ContainerInfo, 'id' | 'initPid' | 'created' | 'startedAt' | 'finishedAt'>;

/** The init's /proc/<pid>/ns/pid link (e.g. `pid:[4026532451]`), or null when the process there cannot be shown to be the init. */
export async function initPidNamespace(info: InitOf, procRoot: string): Promise<string | null> {
  if (!Number.isSafeInteger(info.initPid) || info.initPid <= 0) return null;
  const boot = await readBootTimeSeconds(procRoot);
  if (boot === null) return null;
  const before = initStartTicks(info, procRoot, boot);
  if (before === null) return null;
  let namespace: string;
  try {
    namespace = readlinkSync(`${procRoot}/${info.initPid}/ns/pid`);
  } catch {
    return null;
  }
  return initStartTicks(info, procRoot, boot) === before ? namespace : null;
}

/**
 * The start time (ticks since boot) of the process at the init PID when it is the container's init,
 * else null: it started in the engine's window for this start (startMatches) and sits in a cgroup
 * named after the container's full ID. Also what the monitor's listing cache asks before it keeps
 * an inspect.
 */
export function initStartTicks(info: InitOf, procRoot: string, bootSeconds: number): number | null {
  try {
    const [stat] = parseProcStats(readFileSync(`${procRoot}/${info.initPid}/stat`, 'utf8'));
    if (stat === undefined || stat.pid !== info.initPid || !startMatches(stat.startTicks, bootSeconds, info)) return null;
    return inContainerCgroup(readFileSync(`${procRoot}/${info.initPid}/cgroup`, 'utf8'), info.id) ? stat.startTicks : null;
  } catch {
    return null; // gone: nothing to show it was the init
  }
}

/**
 * Whether the init whose start time was `seenTicks` has ended: nothing at its PID any more, a zombie
 * or dead task there (its shim has not reaped it yet), or another process holding the PID. False
 * whenever the process there is still it, or /proc cannot be read.
 */
export function initEnded(initPid: number, procRoot: string, seenTicks: number): boolean {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${initPid}/stat`, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const [stat] = parseProcStats(text);
  if (stat === undefined || stat.pid !== initPid) return false;
  return stat.state === 'Z' || stat.state === 'X' || stat.startTicks !== seenTicks;
}
