// Whether a /proc's PID numbers are those kill(2) and pidfd_open(2) take here: its `self` resolves
// to our own PID. Not so for a host /proc bind-mounted into a container that has its own PID
// namespace (`self` there resolves to our host PID): its numbers name other processes here. One
// readlink, synchronous: the layout (locality.ts) and the timed-out probe's kill (exec-reaper.ts)
// both ask it.
import { realpathSync } from 'node:fs';

export function procRootIsOurs(procRoot: string): boolean {
  try {
    const self = realpathSync(`${procRoot}/self`);
    return self.slice(self.lastIndexOf('/') + 1) === String(process.pid);
  } catch {
    return false;
  }
}
