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
