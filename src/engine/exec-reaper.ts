// A probe that timed out leaves its process in the container: a `ps` stuck in a container at its
// pids limit holds one of the few free pids and a runc exec slot until it ends on its own. When
// the engine is on this host, the process is killed through its host PID, which exec inspect
// gives (ExecInspect.Pid), but only once this host's /proc shows it is that process:
//   - in a cgroup named after the container's full ID (64 hex digits: no other container's), and
//   - started after the exec was created (start time in clock ticks since boot, against
//     /proc/uptime read before the exec was created), so a PID reused since is not hit.
import { readFileSync } from 'node:fs';
import { USER_HZ } from '../observe/boot-time.ts';
import { parseProcStats } from '../observe/proc-stat.ts';

/** /proc/uptime has 2 decimals and the exec's process starts after it was created: 0.1 s covers rounding. */
const START_SLACK_TICKS = 10;

/** Clock ticks since boot now, from the host's /proc/uptime; null when unreadable. */
export function ticksSinceBoot(procRoot: string): number | null {
  try {
    const up = Number(readFileSync(`${procRoot}/uptime`, 'utf8').split(/\s+/)[0]);
    return Number.isFinite(up) ? Math.floor(up * USER_HZ) : null;
  } catch {
    return null;
  }
}

/** Whether the host process `pid` is the exec's: in the container's cgroup, started after `createdTicks`. */
export function isExecProcess(procRoot: string, pid: number, containerId: string, createdTicks: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || !/^[0-9a-f]{64}$/.test(containerId)) return false;
  try {
    const cgroup = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
    if (!cgroup.includes(containerId)) return false;
    const [stat] = parseProcStats(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
    return stat !== undefined && stat.pid === pid && stat.startTicks + START_SLACK_TICKS >= createdTicks;
  } catch {
    return false; // gone already: nothing to kill
  }
}

/** SIGKILL the exec's process when it is verifiably the exec's; returns whether it was signalled. */
export function killExecProcess(procRoot: string, pid: number, containerId: string, createdTicks: number): boolean {
  if (!isExecProcess(procRoot, pid, containerId, createdTicks)) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false; // ended between the check and the signal
  }
}
