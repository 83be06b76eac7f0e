// A probe that timed out leaves its process in the container: a `ps` stuck in a container at its
// pids limit holds one of the few free pids and a runc exec slot until it ends on its own. When
// the engine is on this host, the process is killed through its host PID, which exec inspect
// gives (ExecInspect.Pid), but only when that PID is one of our PID namespace's and this host's
// /proc shows it is that process:
//   - procRoot's PIDs are ours: its `self` is our PID (src/observe/proc-root.ts). Not so for the
//     host's /proc read through --proc-root by a pidwarden in a container without `pid: host`:
//     there the host PID names another process;
//   - its pids cgroup (the unified one on cgroup v2) has a path segment named after the
//     container's full ID (src/observe/layout.ts: namesContainer), so no other container's;
//   - it started after the exec was created and not after now (start time in clock ticks since
//     boot, against /proc/uptime read before the exec was created and again after its stat), so
//     a PID reused since is not hit, nor a process of a procRoot that is not this boot's.
// Where the kernel has pidfd_open the pidfd is opened before the check and the signal sent
// through it, as src/act/identity.ts does: the checked process is the one signalled.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { closeFd, pidfdOpen, pidfdSendSignal } from '../act/pidfd.ts';
import { USER_HZ } from '../observe/boot-time.ts';
import { parseProcCgroup } from '../observe/cgroup-parse.ts';
import { namesContainer } from '../observe/layout.ts';
import { parseProcStats } from '../observe/proc-stat.ts';
import { procRootIsOurs } from '../observe/proc-root.ts';

/** /proc/uptime has 2 decimals and the exec's process starts after it was created: 0.1 s covers rounding. */
const START_SLACK_TICKS = 10;

/** Clock ticks since boot now, from the host's /proc/uptime; null when unreadable. */
export function ticksSinceBoot(procRoot: string): number | null {
  try {
    const up = Number(readFileSync(`${procRoot}/uptime`, 'utf8').split(/\s+/)[0]);
    // round, not floor: uptime has 2 decimals, and 123.35 * 100 is 12334.999999999998
    return Number.isFinite(up) ? Math.round(up * USER_HZ) : null;
  } catch {
    return null;
  }
}

/**
 * Whether a /proc/<pid>/cgroup text puts the process in the container: the path of its pids
 * hierarchy (cgroup v1), else its unified one (v2), has a segment named after the container.
 * That hierarchy is the one whose limit the container's processes count against.
 */
export function inContainerCgroup(procCgroup: string, containerId: string): boolean {
  const cg = parseProcCgroup(procCgroup);
  const path = cg.v1.get('pids') ?? cg.v2;
  return path !== null && path.split('/').some((segment) => namesContainer(segment, containerId));
}

/** Whether the host process `pid` is the exec's: in the container's cgroup, started between `createdTicks` and now. */
export function isExecProcess(procRoot: string, pid: number, containerId: string, createdTicks: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || !/^[0-9a-f]{64}$/.test(containerId)) return false;
  try {
    if (!inContainerCgroup(readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'), containerId)) return false;
    const [stat] = parseProcStats(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
    const nowTicks = ticksSinceBoot(procRoot); // after the stat: the process had started by then
    if (stat === undefined || stat.pid !== pid || nowTicks === null) return false;
    return stat.startTicks + START_SLACK_TICKS >= createdTicks && stat.startTicks <= nowTicks + START_SLACK_TICKS;
  } catch {
    return false; // gone already: nothing to kill
  }
}

/** SIGKILL the exec's process when it is verifiably the exec's; returns whether it was signalled. */
export function killExecProcess(procRoot: string, pid: number, containerId: string, createdTicks: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || !procRootIsOurs(procRoot)) return false;
  const opened = pidfdOpen(pid);
  if (typeof opened === 'object' && 'errno' in opened) return false; // ESRCH: gone already
  const fd = opened === 'unsupported' ? null : opened.fd;
  try {
    if (!isExecProcess(procRoot, pid, containerId, createdTicks)) return false;
    if (fd !== null) return pidfdSendSignal(fd, constants.signals.SIGKILL) === 0;
    process.kill(pid, 'SIGKILL'); // no pidfds (no glibc, kernel < 5.3): right after the check
    return true;
  } catch {
    return false; // ended between the check and the signal
  } finally {
    if (fd !== null) closeFd(fd);
  }
}
