// --pid-file: one monitor per file. Created with O_EXCL so two monitors starting at once cannot
// both win; a file left by a dead monitor (kill -9, power loss) is stale and replaced.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import { AlreadyRunningError, UsageError } from '../errors.ts';

function ownerAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: alive, but not ours to signal
  }
  return isMonitor(pid);
}

/**
 * A live PID is only an owner if it is a monitor: PIDs are reused (pid_max is 32768 on many hosts,
 * so a busy host wraps in hours), and after a kill -9 or OOM kill the file may name some unrelated
 * process, which would otherwise keep every later monitor out for good. A zombie's cmdline is
 * empty, so it is stale too. When /proc can't tell, assume it is one (refusing is the safe side).
 */
function isMonitor(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT'; // ENOENT: it exited meanwhile
  }
  return cmdline.split('\0').includes('monitor');
}

export function acquirePidFile(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          // Only remove it if it is still ours (an operator may have started another meanwhile).
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UsageError(`--pid-file ${path}: cannot create (${code ?? String(e)})`);
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // vanished between open and read: try again
      }
      if (ownerAlive(owner) && owner !== process.pid) {
        throw new AlreadyRunningError(`another monitor (pid ${owner}) holds ${path}`);
      }
      try {
        unlinkSync(path); // stale
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new AlreadyRunningError(`could not take ${path}: another monitor is starting`);
}
