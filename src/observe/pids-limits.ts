// The container's pids limit as the kernel enforces it: the smallest pids.max on the way up from
// the container's cgroup to the root of the hierarchy (a systemd slice's TasksMax or a
// --cgroup-parent limit bites exactly like the container's own), which cgroup holds it, and what
// the kernel counted: pids.events `max` (forks refused since the cgroup was made) and pids.peak
// (cgroup v2, Linux 6.1+; absent on v1). Synchronous reads of tiny pseudo-files, like cgroup.ts.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PidsLimitReading {
  inForce: number | null;
  heldBy: string | null;
  forksRefused: number | null;
  peak: number | null;
}

/** Deeper than any real hierarchy (docker/<id> is 2, a systemd slice tree 4 or 5): a loop guard. */
const MAX_LEVELS = 32;

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
 * Walks up from `cgroupDir` while a pids.max is there (the root of a hierarchy has none). The
 * smallest limit wins; on a tie the deepest cgroup holds it.
 */
export function readPidsLimits(cgroupDir: string): PidsLimitReading {
  let inForce: number | null = null;
  let heldBy: string | null = null;
  let dir = cgroupDir;
  for (let level = 0; level < MAX_LEVELS; level++) {
    const text = read(`${dir}/pids.max`);
    if (text === null) break;
    const v = parseLimitValue(text);
    if (typeof v === 'number' && (inForce === null || v < inForce)) {
      inForce = v;
      heldBy = dir;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const events = read(`${cgroupDir}/pids.events`);
  const peak = read(`${cgroupDir}/pids.peak`);
  const peakValue = peak === null ? null : parseLimitValue(peak);
  return {
    inForce,
    heldBy,
    forksRefused: events === null ? null : parsePidsEvents(events),
    peak: typeof peakValue === 'number' ? peakValue : null,
  };
}
