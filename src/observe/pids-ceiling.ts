// Pure: how many tasks a container may have, from pids.max and pids.current up its cgroup tree.
// A parent's pids.current counts every cgroup below it (the pids controller is hierarchical, v1
// and v2: https://docs.kernel.org/admin-guide/cgroup-v1/pids.html). So a limit on a parent shared
// by several containers (a --cgroup-parent, a systemd slice with TasksMax) leaves one container
// only what the others do not use. Compared with the parent's pids.max alone, a container of 10
// tasks under a parent at 100 of 100 read "10 of 100" and was left alone while every one of its
// forks failed.

export interface LimitLevel {
  dir: string;
  /** pids.max there; null is `max` or unreadable. */
  max: number | null;
  /** pids.current there; null when unreadable. */
  current: number | null;
}

import type { SharedLimit } from '../types.ts';

export interface PidsCeiling {
  /** The tasks this container may have: the smallest, over the levels, of pids.max less what other cgroups use there. */
  max: number | null;
  /** The level that gives `max`. */
  heldBy: string | null;
  /** Set when that level is shared with other cgroups (its pids.current above the container's). */
  shared: SharedLimit | null;
}

/**
 * `own`: the container's pids.current; `levels`: its cgroup first, then each parent up to the
 * hierarchy's top. A level whose pids.current is unknown (or the container's) counts at its
 * pids.max alone, as if nothing else used it. Ties go to the most specific level.
 */
export function pidsCeiling(own: number | null, levels: readonly LimitLevel[]): PidsCeiling {
  let best: PidsCeiling = { max: null, heldBy: null, shared: null };
  levels.forEach((level, i) => {
    if (level.max === null) return;
    const others = i === 0 || own === null || level.current === null ? 0 : level.current - own;
    const candidate: PidsCeiling = others > 0
      ? { max: Math.max(0, level.max - others), heldBy: level.dir, shared: { max: level.max, current: level.current! } }
      : { max: level.max, heldBy: level.dir, shared: null };
    if (best.max === null || candidate.max! < best.max) best = candidate;
  });
  return best;
}
