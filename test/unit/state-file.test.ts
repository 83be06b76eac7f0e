import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideRestart, parseRestartLimit, type RestartLimit } from '../../src/decide/restart-policy.ts';
import { KEEP_RESTARTS_MS, MAX_RESTARTS_KEPT, mergeState, parseState, pruneState, SAMPLE_EVERY_MS, StateStore, type StateDoc } from '../../src/state/state-file.ts';

const ID = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);
const NOW = 1_800_000_000_000;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-state-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('parseState', () => {
  test('a version 1 document', () => {
    const text = JSON.stringify({ version: 1, containers: { [ID]: { name: 'metamcp', restarts: [NOW] } } });
    expect(parseState(text)).toEqual({ version: 1, containers: { [ID]: { name: 'metamcp', restarts: [NOW] } } });
  });
  const bad: [string, string][] = [
    ['not JSON', '{"version":1,'],
    ['another version', JSON.stringify({ version: 2, containers: {} })],
    ['containers not an object', JSON.stringify({ version: 1, containers: [] })],
    ['a key that is no container ID', JSON.stringify({ version: 1, containers: { metamcp: { name: 'x', restarts: [] } } })],
    ['restarts not whole numbers', JSON.stringify({ version: 1, containers: { [ID]: { name: 'x', restarts: ['soon'] } } })],
  ];
  for (const [name, text] of bad) test(`rejects ${name}`, () => expect(parseState(text)).toBeNull());
});

test('pruneState: restarts older than the keep time and containers left without any go; at most MAX per container', () => {
  const many = Array.from({ length: MAX_RESTARTS_KEPT + 5 }, (_, i) => NOW - i * 1000);
  const doc = {
    version: 1 as const,
    containers: { [ID]: { name: 'a', restarts: [NOW - KEEP_RESTARTS_MS - 1, NOW - 10] }, [ID2]: { name: 'b', restarts: many } },
  };
  const out = pruneState(doc, NOW);
  expect(out.containers[ID]).toEqual({ name: 'a', restarts: [NOW - 10] });
  expect(out.containers[ID2]!.restarts).toHaveLength(MAX_RESTARTS_KEPT);
  expect(out.containers[ID2]!.restarts.at(-1)).toBe(NOW);
  expect(pruneState({ version: 1, containers: { [ID]: { name: 'a', restarts: [1] } } }, NOW).containers).toEqual({});
});

describe('pruning never changes a restart decision (every limit --restart-limit accepts)', () => {
  const H = 3_600_000;
  const pruned = (restarts: number[], now: number) => pruneState({ version: 1, containers: { [ID]: { name: 'a', restarts } } }, now).containers[ID]?.restarts ?? [];

  test('the longest window and the largest count accepted, and a short one', () => {
    const limits = ['100/7d', '3/7d', '3/1h', '0/1h'].map((t) => parseRestartLimit(t)!) as RestartLimit[];
    // 300 attempts spread over 10 days, some of them older than what the file keeps
    const history = Array.from({ length: 300 }, (_, i) => NOW - i * 48 * 60_000);
    for (const limit of limits) {
      for (const at of [NOW, NOW + 5 * 60_000, NOW + H, NOW + 6 * 24 * H]) {
        expect(decideRestart(pruned(history, NOW), at, limit).allowed).toBe(decideRestart(history, at, limit).allowed);
      }
    }
  });

  test('a monitor running for 30 days, unhealthy every cycle: the history stays bounded and the limit always holds', () => {
    const limit = parseRestartLimit('3/1h')!;
    let history: number[] = [];
    const restarts: number[] = [];
    for (let t = NOW; t < NOW + 30 * 24 * H; t += 30_000) {
      if (!decideRestart(history, t, limit).allowed) continue;
      restarts.push(t);
      history = pruned([...history, t], t);
      expect(history.length).toBeLessThanOrEqual(MAX_RESTARTS_KEPT);
    }
    for (let i = limit.count; i < restarts.length; i++) expect(restarts[i]! - restarts[i - limit.count]!).toBeGreaterThanOrEqual(limit.windowMs);
  });
});

describe('StateStore on a real directory', () => {
  test('records survive a new store (a new run); directory 0700, file 0600, written by rename', () => {
    const path = join(tmp(), 'sub', 'state.json');
    const warnings: string[] = [];
    const a = new StateStore(path, (m) => warnings.push(m));
    a.recordRestart(ID, 'metamcp', Date.now());
    a.recordRestart(ID, 'metamcp', Date.now());
    expect(new StateStore(path, (m) => warnings.push(m)).restartHistory(ID)).toHaveLength(2);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(path, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('a corrupt file is moved aside with a warning and started afresh', () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    writeFileSync(path, '{"version":1, "containers": {');
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    expect(store.restartHistory(ID)).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('corrupt');
    const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.bad-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{"version":1, "containers": {');
    store.recordRestart(ID, 'x', Date.now());
    expect(parseState(readFileSync(path, 'utf8'))?.containers[ID]?.restarts).toHaveLength(1);
  });

  test('a directory that cannot be created: memory only, one warning, the run goes on', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), '');
    const warnings: string[] = [];
    const store = new StateStore(join(dir, 'file', 'state.json'), (m) => warnings.push(m));
    store.recordRestart(ID, 'x', NOW);
    store.recordRestart(ID, 'x', NOW + 1);
    expect(store.restartHistory(ID)).toEqual([NOW, NOW + 1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('restart limits hold within this run only');
  });

  test('a lock another process keeps (stopped, frozen, stuck on its disk): no hang; a copy of the file in memory, its restarts still count', async () => {
    const path = join(tmp(), 'state.json');
    const now = Date.now();
    const first = new StateStore(path, () => {});
    first.recordRestart(ID, 'x', now);
    first.recordRestart(ID, 'x', now + 1);
    const release = await holdLock(path);
    try {
      const warnings: string[] = [];
      const store = new StateStore(path, (m) => warnings.push(m), 200);
      store.recordRestart(ID, 'x', now + 2);
      expect(store.restartHistory(ID)).toEqual([now, now + 1, now + 2]);
      expect(decideRestart(store.restartHistory(ID), now + 3, parseRestartLimit('3/1h')!).allowed).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('for over 0.2 s');
    } finally {
      await release();
    }
  });

  test('a write that fails (EISDIR here; ENOSPC, EROFS alike): 5 recorded restarts are kept in memory and read back, one warning', () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    mkdirSync(`${path}.${process.pid}.tmp`);
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    const now = Date.now();
    for (let i = 0; i < 5; i++) store.recordRestart(ID, 'x', now + i);
    expect(store.restartHistory(ID)).toEqual([now, now + 1, now + 2, now + 3, now + 4]);
    expect(store.snapshot().containers[ID]?.restarts).toHaveLength(5);
    // the limit holds: a 3/1h limit refuses the sixth attempt
    expect(decideRestart(store.restartHistory(ID), now + 5, parseRestartLimit('3/1h')!).allowed).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('EISDIR');
    expect(warnings[0]).toContain('restart limits hold within this run only');
    expect(existsSync(path)).toBe(false);
    // the directory is usable: ladder locks still work after the write failed
    const release = store.tryLockContainer(ID);
    expect(release).not.toBeNull();
    expect(new StateStore(path, () => {}).tryLockContainer(ID)).toBeNull();
    release!();
  });

  test('an unreadable file (mode 000, not root) or a directory in its place is moved aside', () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0);
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    store.restartHistory(ID);
    // root reads a mode-000 file anyway; then it is "another version" ({}): moved aside either way
    expect(warnings).toHaveLength(1);
    expect(existsSync(path)).toBe(false);
  });

  test('the ladder lock: a second holder is refused until the first releases it', () => {
    const path = join(tmp(), 'state.json');
    const one = new StateStore(path, () => {});
    const two = new StateStore(path, () => {});
    const release = one.tryLockContainer(ID);
    expect(release).not.toBeNull();
    expect(two.tryLockContainer(ID)).toBeNull();
    expect(two.tryLockContainer(ID2)).not.toBeNull(); // another container is free
    release!();
    const again = two.tryLockContainer(ID);
    expect(again).not.toBeNull();
    again!();
  });

  test('a lock is an flock: it dies with its process (no stale lock after kill -9)', async () => {
    const path = join(tmp(), 'state.json');
    const script = `import { StateStore } from ${JSON.stringify(join(import.meta.dir, '../../src/state/state-file.ts'))};
      const r = new StateStore(${JSON.stringify(path)}, () => {}).tryLockContainer('${ID}');
      console.log(r ? 'locked' : 'busy'); setInterval(() => {}, 1000);`;
    const child = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe' });
    const reader = child.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.trim()).toBe('locked');
    expect(new StateStore(path, () => {}).tryLockContainer(ID)).toBeNull();
    child.kill('SIGKILL');
    await child.exited;
    const mine = new StateStore(path, () => {}).tryLockContainer(ID);
    expect(mine).not.toBeNull();
    mine!();
  });
});

/**
 * One process holding the state lock until killed: the shell locks its fd 9 with util-linux
 * flock(1), says so, and execs sleep, which keeps fd 9 and so the lock. (`flock FILE -c CMD` forks
 * CMD: killing flock left the sleep, and the lock, behind for 10 minutes.)
 */
async function holdLock(path: string) {
  const holder = Bun.spawn(['sh', '-c', 'exec 9>"$0"; flock -x 9 && echo held && exec sleep 600', `${path}.lock`], { stdout: 'pipe', stderr: 'ignore' });
  const reader = holder.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe('held\n');
  return async () => {
    holder.kill('SIGKILL');
    await holder.exited;
  };
}

const fileRestarts = (path: string) => parseState(readFileSync(path, 'utf8'))?.containers[ID]?.restarts;
const fileDoc = (restarts: number[]) => JSON.stringify({ version: 1, containers: { [ID]: { name: 'x', restarts } } });

describe('StateStore: a file that was unusable is used again, with what memory recorded meanwhile', () => {
  test('after a lock timeout and its release: a restart another store recorded is seen, the memory-only one is in the file, one line says so', async () => {
    const path = join(tmp(), 'state.json');
    const now = Date.now();
    new StateStore(path, () => {}).recordRestart(ID, 'x', now);
    const warnings: string[] = [];
    const first = new StateStore(path, (m) => warnings.push(m), 200);
    const release = await holdLock(path);
    try {
      first.recordRestart(ID, 'x', now + 1); // the lock wait ends: memory only
      expect(first.restartHistory(ID)).toEqual([now, now + 1]);
    } finally {
      await release();
    }
    expect(fileRestarts(path)).toEqual([now]);
    new StateStore(path, () => {}).recordRestart(ID, 'x', now + 2); // a cron cleanup, say
    expect(first.restartHistory(ID)).toEqual([now, now + 1, now + 2]);
    expect(fileRestarts(path)).toEqual([now, now + 1, now + 2]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('for over 0.2 s');
    expect(warnings[1]).toContain('usable again; 1 restart recorded in memory meanwhile merged');
    // from the file again: its next restart goes there, and another store's is seen
    first.recordRestart(ID, 'x', now + 3);
    new StateStore(path, () => {}).recordRestart(ID, 'x', now + 4);
    expect(fileRestarts(path)).toEqual([now, now + 1, now + 2, now + 3, now + 4]);
    expect(first.restartHistory(ID)).toEqual([now, now + 1, now + 2, now + 3, now + 4]);
    expect(warnings).toHaveLength(2);
  });

  test('after a write failure (EISDIR) that clears: the next record lands in the file with the earlier one; a new failure warns again', () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    const blocker = `${path}.${process.pid}.tmp`;
    mkdirSync(blocker);
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    const now = Date.now();
    store.recordRestart(ID, 'x', now);
    expect(existsSync(path)).toBe(false);
    rmSync(blocker, { recursive: true });
    store.recordRestart(ID, 'x', now + 1);
    expect(fileRestarts(path)).toEqual([now, now + 1]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('cannot write (EISDIR)');
    expect(warnings[1]).toContain('usable again; 1 restart recorded in memory meanwhile merged');
    // another episode is another warning (one, however many uses it lasts)
    mkdirSync(blocker);
    for (let i = 2; i < 6; i++) store.recordRestart(ID, 'x', now + i);
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toContain('cannot write (EISDIR)');
    expect(fileRestarts(path)).toEqual([now, now + 1]);
    expect(store.restartHistory(ID)).toEqual([now, now + 1, now + 2, now + 3, now + 4, now + 5]);
  });

  test('while writes still fail: its memory-only restarts count with those another pidwarden writes to the file meanwhile, one warning', () => {
    const path = join(tmp(), 'state.json');
    mkdirSync(`${path}.${process.pid}.tmp`);
    const now = Date.now();
    writeFileSync(path, fileDoc([now - 10]));
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    store.recordRestart(ID, 'x', now);
    // a cron cleanup (its own temp file) records one while this store cannot write
    writeFileSync(path, fileDoc([now - 10, now + 1]));
    for (let i = 0; i < 20; i++) {
      expect(store.restartHistory(ID)).toEqual([now - 10, now, now + 1]);
      expect(store.snapshot().containers[ID]?.restarts).toEqual([now - 10, now, now + 1]);
    }
    expect(decideRestart(store.restartHistory(ID), now + 2, parseRestartLimit('3/1h')!).allowed).toBe(false);
    store.recordRestart(ID, 'x', now + 2);
    expect(store.restartHistory(ID)).toEqual([now - 10, now, now + 1, now + 2]);
    expect(fileRestarts(path)).toEqual([now - 10, now + 1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cannot write (EISDIR)');
  });

  test('while the lock stays held: restarts keep counting, one warning, and a retry waits far less than the first wait', async () => {
    const path = join(tmp(), 'state.json');
    const now = Date.now();
    new StateStore(path, () => {}).recordRestart(ID, 'x', now);
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m), 1000);
    const release = await holdLock(path);
    try {
      store.recordRestart(ID, 'x', now + 1);
      const t0 = performance.now();
      for (let i = 2; i < 7; i++) store.recordRestart(ID, 'x', now + i);
      for (let i = 0; i < 5; i++) expect(store.restartHistory(ID)).toHaveLength(7);
      // ten retries at 100 ms at most each, not ten full waits of 1 s
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(warnings).toHaveLength(1);
    } finally {
      await release();
    }
    expect(store.restartHistory(ID)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => now + i));
    expect(fileRestarts(path)).toHaveLength(7);
  });

  test('a directory that could not be created and then can: the file is created with what memory recorded, ladder locks work', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'sub'), '');
    const path = join(dir, 'sub', 'state.json');
    const warnings: string[] = [];
    const store = new StateStore(path, (m) => warnings.push(m));
    const now = Date.now();
    store.recordRestart(ID, 'x', now);
    rmSync(join(dir, 'sub'));
    const release = store.tryLockContainer(ID);
    expect(new StateStore(path, () => {}).tryLockContainer(ID)).toBeNull();
    release!();
    store.recordRestart(ID, 'x', now + 1);
    expect(fileRestarts(path)).toEqual([now, now + 1]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('cannot create its directory');
    expect(warnings[1]).toContain('usable again');
  });
});

describe('mergeState', () => {
  const rec = (over: Partial<StateDoc['containers'][string]>) => ({ name: 'x', restarts: [], ...over });
  test('restarts: a union, each once, pruned as usual', () => {
    const file: StateDoc = { version: 1, containers: { [ID]: rec({ restarts: [NOW - 3, NOW - 1] }) } };
    const mine: StateDoc = { version: 1, containers: { [ID]: rec({ restarts: [NOW - KEEP_RESTARTS_MS - 5, NOW - 3, NOW - 2] }), [ID2]: rec({ name: 'b', restarts: [NOW] }) } };
    const { doc, restartsAdded } = mergeState(file, mine, NOW);
    expect(doc.containers[ID]!.restarts).toEqual([NOW - 3, NOW - 2, NOW - 1]);
    expect(doc.containers[ID2]).toEqual({ name: 'b', restarts: [NOW] });
    expect(restartsAdded).toBe(3);
  });
  test('samples merged by time at the spacing addSample keeps; name, refused count, CPU mark and usage record: the newest', () => {
    const M = SAMPLE_EVERY_MS;
    const file: StateDoc = {
      version: 1,
      containers: { [ID]: rec({ name: 'old', samples: [[NOW - 4 * M, 1, 0, 1], [NOW - 2 * M, 2, 0, 2]], forksRefused: 1, cpuMark: [NOW - 2 * M, 10, 's'] }) },
      usage: { [ID]: { name: 'old', startedAt: 1, samples: [{ t: NOW - 2 * M, cpuNs: 1, blockBytes: 0, netBytes: 0 }] } },
    };
    const mine: StateDoc = {
      version: 1,
      containers: { [ID]: rec({ name: 'new', samples: [[NOW - 4 * M + 1, 9, 9, 9], [NOW - M, 3, 0, 3]], forksRefused: 5, cpuMark: [NOW - M, 20, 's'] }) },
      usage: { [ID]: { name: 'new', startedAt: 1, samples: [{ t: NOW - M, cpuNs: 2, blockBytes: 0, netBytes: 0 }] } },
    };
    const { doc } = mergeState(file, mine, NOW);
    expect(doc.containers[ID]).toEqual({
      name: 'new',
      restarts: [],
      samples: [[NOW - 4 * M, 1, 0, 1], [NOW - 2 * M, 2, 0, 2], [NOW - M, 3, 0, 3]],
      forksRefused: 5,
      cpuMark: [NOW - M, 20, 's'],
    });
    expect(doc.usage![ID]!.name).toBe('new');
  });
});
