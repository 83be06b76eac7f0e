// Pure process-tree helpers: a victim goes with all its descendants, because killing only the
// `npm exec` leaves its `sh -c` and `node` children re-parented to PID 1, still counted.
import type { Proc } from '../types.ts';

/** Older first: start time when known; PIDs grow with time otherwise (until they wrap). */
export function olderFirst(a: Proc, b: Proc): number {
  if (a.startTicks !== undefined && b.startTicks !== undefined && a.startTicks !== b.startTicks) {
    return a.startTicks - b.startTicks;
  }
  return a.pid - b.pid;
}

export function childrenIndex(procs: Proc[]): Map<number, Proc[]> {
  const index = new Map<number, Proc[]>();
  for (const p of procs) {
    const list = index.get(p.ppid);
    if (list) list.push(p);
    else index.set(p.ppid, [p]);
  }
  return index;
}

/**
 * The root and every descendant, root first (breadth-first). Cycles (bad data) are ignored. A
 * process for which `keepOut` holds is left out with everything below it (a protected process
 * keeps its own workers).
 */
export function subtree(root: Proc, children: Map<number, Proc[]>, keepOut?: (p: Proc) => boolean): Proc[] {
  const out: Proc[] = [];
  const seen = new Set<number>();
  const queue = [root];
  // An index, not shift(): shift() moves every element left, so PID 1's subtree of a 5,000-process
  // table would cost 5,000 x 5,000 moves.
  for (let head = 0; head < queue.length; head++) {
    const p = queue[head]!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    if (p !== root && keepOut?.(p)) continue;
    out.push(p);
    // PID 0 is "outside the namespace" (docker exec sessions): never anybody's child here.
    if (p.pid !== 0) queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** Each process's parent, by PID: built once per table and shared by every depthsBelow of it. */
export function parentIndex(procs: Proc[]): Map<number, number> {
  return new Map(procs.map((p) => [p.pid, p.ppid]));
}

/**
 * How far below `rootPid` each process is (root 0, its children 1, ...), following ppid links
 * (`parentOf`: parentIndex of the whole table); processes not under the root are left out. Walks
 * at most 64 links: deeper is bad data (a cycle). The index is the caller's, so that 1,600 victims
 * of one table cost one index, not 1,600 of 5,000 entries each (README, Performance).
 */
export function depthsBelow(rootPid: number, members: Proc[], parentOf: ReadonlyMap<number, number>): Map<number, number> {
  const depths = new Map<number, number>();
  for (const m of members) {
    let pid = m.pid;
    for (let d = 0; d <= 64; d++) {
      if (pid === rootPid) {
        depths.set(m.pid, d);
        break;
      }
      const up = parentOf.get(pid);
      if (up === undefined || up === pid) break;
      pid = up;
    }
  }
  return depths;
}
