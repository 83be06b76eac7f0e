import { describe, expect, test } from 'bun:test';
import { childrenIndex, depthsBelow, parentIndex, subtree } from '../../src/decide/tree.ts';
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

/** A storm shaped like the bench's 5,000-process container: PID 1, then `trees` npm -> sh -> node chains. */
function storm(trees: number): Proc[] {
  const procs = [proc(1, 0, 'node dist/index.js')];
  for (let i = 0; i < trees; i++) {
    const npm = 2 + 3 * i;
    procs.push(proc(npm, 1, 'npm exec figma-mcp'), proc(npm + 1, npm, "sh -c 'figma-mcp'"), proc(npm + 2, npm + 1, 'node /root/.npm/_npx/e3/node_modules/.bin/figma-mcp'));
  }
  return procs;
}

describe('depthsBelow over one parentIndex', () => {
  test('npm exec -> sh -c -> node: 0, 1, 2; a process outside the tree is left out', () => {
    const procs = metamcpProcs();
    const depths = depthsBelow(16, [byPid(procs, 16), byPid(procs, 38), byPid(procs, 39), byPid(procs, 27)], parentIndex(procs));
    expect([...depths.entries()]).toEqual([[16, 0], [38, 1], [39, 2]]);
  });

  test('1,667 victims of a 5,002-process table, one index for all: every tree 0, 1, 2', () => {
    const procs = storm(1667);
    const parentOf = parentIndex(procs);
    const children = childrenIndex(procs);
    for (const root of procs.filter((p) => p.command.startsWith('npm exec'))) {
      const tree = subtree(root, children);
      expect(tree.map((p) => depthsBelow(root.pid, tree, parentOf).get(p.pid))).toEqual([0, 1, 2]);
    }
  });

  test('a cycle in bad data ends the walk after 64 links: no depth', () => {
    const cycle = [proc(10, 11, 'a'), proc(11, 10, 'b')];
    expect(depthsBelow(1, cycle, parentIndex(cycle)).size).toBe(0);
  });
});

describe('subtree of a large table', () => {
  test("PID 1's subtree of a 5,002-process storm is every process, children before grandchildren", () => {
    const procs = storm(1667);
    const all = subtree(procs[0]!, childrenIndex(procs));
    expect(all.length).toBe(5002);
    expect(all.slice(1, 1668).every((p) => p.ppid === 1)).toBe(true);
  });
});
