// What the kernel counted about a container's pids limit: pids.events `max` (forks refused since
// the cgroup was made) and pids.peak (where the kernel has it). With the limit in force (smallest
// pids.max up the tree) and its holder from src/observe/cgroup.ts, the figures of the limit's
// verdict (src/decide/limits.ts). Synchronous reads of tiny pseudo-files, like cgroup.ts.
import { readFileSync } from 'node:fs';
import type { SharedLimit } from '../types.ts';

export interface PidsLimitReading {
  inForce: number | null;
  heldBy: string | null;
  shared: SharedLimit | null;
  forksRefused: number | null;
  peak: number | null;
}

/** `max` (no limit) or a whole number; anything else is unreadable. */
export function parseLimitValue(text: string): number | 'max' | null {
  const t = text.trim();
  if (t === 'max') return 'max';
  return /^\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : null;
}

/** pids.events: "max 12" (v1 and v2; Linux 6.x v2 may add "max.imposed N"). */
export function parsePidsEvents(text: string): number | null {
  const m = /^max (\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The kernel's counters of the container's own pids cgroup. (The limit in force, the smallest
 * pids.max up the tree, is found with the cgroup itself: src/observe/cgroup.ts.)
 */
export function readPidsCounters(cgroupDir: string): { forksRefused: number | null; peak: number | null } {
  const events = read(`${cgroupDir}/pids.events`);
  const peak = read(`${cgroupDir}/pids.peak`);
  const peakValue = peak === null ? null : parseLimitValue(peak);
  return { forksRefused: events === null ? null : parsePidsEvents(events), peak: typeof peakValue === 'number' ? peakValue : null };
}
