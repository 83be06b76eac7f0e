// Pure process-tree helpers: a victim goes with all its descendants, because killing only the
// `npm exec` leaves its `sh -c` and `node` children re-parented to PID 1, still counted.
import type { Proc } from '../types.ts';

export function childrenIndex(procs: Proc[]): Map<number, Proc[]> {
  const index = new Map<number, Proc[]>();
  for (const p of procs) {
    const list = index.get(p.ppid);
    if (list) list.push(p);
    else index.set(p.ppid, [p]);
  }
  return index;
}

/** The root and every descendant, root first (breadth-first). Cycles (bad data) are ignored. */
export function subtree(root: Proc, children: Map<number, Proc[]>): Proc[] {
  const out: Proc[] = [];
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push(p);
    // PID 0 is "outside the namespace" (docker exec sessions): never anybody's child here.
    if (p.pid !== 0) queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/**
 * How far below `rootPid` each process is (root 0, its children 1, ...), following ppid links;
 * processes not under the root are left out. Walks at most 64 links: deeper is bad data (a cycle).
 */
export function depthsBelow(rootPid: number, members: Proc[], all: Proc[]): Map<number, number> {
  const parentOf = new Map(all.map((p) => [p.pid, p.ppid]));
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
