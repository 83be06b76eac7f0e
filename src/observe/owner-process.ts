// Is the process an owner label names alive on this host, and since when? From the host's /proc:
// /proc/<pid>/stat (state, start time in clock ticks since boot) and /proc/stat's btime. A start
// time lets the reap rule tell the owner from a process that got its PID later; the container's
// init is read the same way, with the same btime, so that the two starts are on one clock.
import { readFile } from 'node:fs/promises';
import type { OwnerProcess } from '../decide/reap.ts';
import { readBootTimeSeconds, USER_HZ } from './boot-time.ts';
import { parseProcStats } from './proc-stat.ts';

export async function readBootTimeMs(procRoot: string): Promise<number | null> {
  const s = await readBootTimeSeconds(procRoot);
  return s === null ? null : s * 1000;
}

/**
 * null: no such process (ENOENT, or ESRCH while it exits). Any other failure throws: a /proc that
 * cannot be read is no evidence that the owner is gone.
 */
export async function readOwnerProcess(pid: number, procRoot: string, bootMs: number): Promise<OwnerProcess | null> {
  let text: string;
  try {
    text = await readFile(`${procRoot}/${pid}/stat`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw new Error(`cannot read ${procRoot}/${pid}/stat (${code ?? String(e)})`);
  }
  const rec = parseProcStats(text)[0];
  if (!rec || rec.pid !== pid) throw new Error(`${procRoot}/${pid}/stat: not a stat record`);
  return { startMs: bootMs + (rec.startTicks * 1000) / USER_HZ, zombie: rec.state === 'Z' || rec.state === 'X' };
}
