import { describe, expect, test } from 'bun:test';
import { childrenIndex, subtree } from '../../src/decide/tree.ts';
import type { Proc } from '../../src/types.ts';
import { descendantsOf, metamcpProcs, pidsOf, proc } from './helpers/procs.ts';

function byPid(procs: Proc[], pid: number): Proc {
  const p = procs.find((x) => x.pid === pid);
  if (!p) throw new Error(`no PID ${pid} in the table`);
  return p;
}

describe('childrenIndex', () => {
  test('MetaMCP: PID 1 parents every npm exec and the loose processes, in table order', () => {
    const idx = childrenIndex(metamcpProcs());
    expect(pidsOf(idx.get(1) ?? [])).toEqual([16, 27, 46, 65, 92, 93, 102, 103, 119, 133, 152, 177, 196, 215]);
    expect(pidsOf(idx.get(16) ?? [])).toEqual([38]);
    expect(pidsOf(idx.get(38) ?? [])).toEqual([39]);
    expect(idx.get(39)).toBeUndefined(); // a leaf
    expect(pidsOf(idx.get(0) ?? [])).toEqual([1]);
  });

  test('empty table, empty index', () => {
    expect(childrenIndex([]).size).toBe(0);
  });
});

describe('subtree', () => {
  const procs = metamcpProcs();
  const idx = childrenIndex(procs);

  test('npm exec -> sh -c -> node: the whole chain, root first', () => {
    expect(pidsOf(subtree(byPid(procs, 16), idx))).toEqual([16, 38, 39]);
    expect(pidsOf(subtree(byPid(procs, 215), idx))).toEqual([215, 226, 227]);
  });

  test('a leaf is its own subtree', () => {
    expect(pidsOf(subtree(byPid(procs, 39), idx))).toEqual([39]);
  });

  test('from PID 1: every process of the table, breadth-first (children before grandchildren)', () => {
    const all = pidsOf(subtree(byPid(procs, 1), idx));
    expect(all).toHaveLength(procs.length);
    expect(all.slice(0, 15)).toEqual([1, 16, 27, 46, 65, 92, 93, 102, 103, 119, 133, 152, 177, 196, 215]);
    // every process appears after its parent
    for (const p of procs) if (p.pid !== 1) expect(all.indexOf(p.pid)).toBeGreaterThan(all.indexOf(p.ppid));
  });

  test('agrees with an independent walk for every process of the table', () => {
    for (const p of procs) {
      expect(pidsOf(subtree(p, idx)).sort((a, b) => a - b)).toEqual(descendantsOf(procs, p.pid));
    }
  });

  test('a `docker exec` session (ppid 0) is not below PID 1', () => {
    const withExec = [...metamcpProcs(), proc(300, 0, 'sh'), proc(301, 300, 'ps -o pid,ppid,stat,args')];
    const i = childrenIndex(withExec);
    const fromInit = pidsOf(subtree(byPid(withExec, 1), i));
    expect(fromInit).not.toContain(300);
    expect(fromInit).not.toContain(301);
    expect(pidsOf(subtree(byPid(withExec, 300), i))).toEqual([300, 301]);
  });

  test('a PID 0 entry (outside the namespace) never adopts the ppid-0 processes', () => {
    const table = [proc(0, 0, '?'), proc(1, 0, 'node dist/index.js'), proc(7, 0, 'sh')];
    expect(pidsOf(subtree(byPid(table, 0), childrenIndex(table)))).toEqual([0]);
  });

  test('cycles in bad data end the walk instead of looping forever', () => {
    const cycle = [proc(10, 12, 'a'), proc(11, 10, 'b'), proc(12, 11, 'c')];
    expect(pidsOf(subtree(byPid(cycle, 10), childrenIndex(cycle)))).toEqual([10, 11, 12]);
    const selfParent = [proc(5, 5, 'weird')];
    expect(pidsOf(subtree(byPid(selfParent, 5), childrenIndex(selfParent)))).toEqual([5]);
  });

  test('the same PID listed twice (a racy ps read) is walked once', () => {
    const dup = [proc(1, 0, 'init'), proc(8, 1, 'npm exec x'), proc(9, 8, 'sh'), proc(9, 8, 'sh')];
    expect(pidsOf(subtree(byPid(dup, 8), childrenIndex(dup)))).toEqual([8, 9]);
  });

  test('a root not in the index (already gone) is returned alone', () => {
    expect(pidsOf(subtree(proc(4242, 1, 'gone'), idx))).toEqual([4242]);
  });
});
