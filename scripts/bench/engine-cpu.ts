// CPU time the private engine spent: dockerd, containerd and every containerd-shim of it, each with
// its reaped children (runc, runc init, and the programs an exec ran: `ps`), from /proc/<pid>/stat
// fields 14-17. What one `docker exec` costs the host, where pidwarden's own CPU cannot show it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './common.ts';

const STATE = join(ROOT, '.tmp', 'dockerd');

/** utime + stime + cutime + cstime in ms (USER_HZ = 100); 0 for a process that is gone. */
function ticksWithChildrenMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return 0;
  }
}

function pidFile(name: string): number | null {
  const p = join(STATE, name);
  return existsSync(p) ? Number(readFileSync(p, 'utf8').trim()) : null;
}

/** The engine's CPU so far. Shims are found by the containerd socket in their command line. */
export function engineCpuMs(): number {
  const runDir = existsSync(join(STATE, 'rundir')) ? readFileSync(join(STATE, 'rundir'), 'utf8').trim() : join(STATE, 'run');
  let total = 0;
  for (const pid of [pidFile('dockerd.pid'), pidFile('containerd.pid')]) if (pid) total += ticksWithChildrenMs(pid);
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!readFileSync(`/proc/${e}/comm`, 'utf8').startsWith('containerd-shim')) continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(runDir)) total += ticksWithChildrenMs(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
