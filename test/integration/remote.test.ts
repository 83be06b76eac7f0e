/**
 * pidwarden against a remote engine: the same private engine, reached over 127.0.0.1 TCP
 * (PIDWARDEN_TEST_DOCKER_TCP, see scripts/engine.sh). A tcp:// engine is not local, so pidwarden
 * may not read /proc or the cgroup fs: pids come from the API's pids_stats, start times from one
 * `cat` of /proc/<pid>/stat inside the container, CPU and memory from two one-shot stats calls,
 * and kills go through `kill` in the container with liveness checked by `cat`. These are the
 * paths a local test never takes.
 */
import { expect, setDefaultTimeout, test } from 'bun:test';
import { describeEngine, hostProcsOfContainer, liveChains, pidsFiles, runPidwarden, startWorkload, waitFor, waitForChains } from './harness.ts';
import { FIGMA, MAGIC, MAGIC_TITLE, RUV } from './packages.ts';

setDefaultTimeout(60_000);

const TCP = process.env.PIDWARDEN_TEST_DOCKER_TCP ?? '';

describeEngine('remote engine (tcp://127.0.0.1)', () => {
  test('the test engine listens on loopback TCP', () => {
    expect(TCP).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  test('audit: processes through ps + cat in the container, pids from the API, equal to the kernel', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'remote-audit', trees: [{ npx: MAGIC, copies: 2 }, RUV], threads: 2 });
    await waitForChains(w, 3);
    const r = await runPidwarden(['audit', '--json', '--docker-host', TCP, '--container', w.name]);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    const c = doc.containers[0];
    const kernel = hostProcsOfContainer(w);
    expect(c.processes.source).toBe('ps');
    expect(c.processes.total).toBe(kernel.length);
    expect(c.processes.matching).toBe(3);
    expect(c.duplicates).toEqual([{ command: MAGIC_TITLE, count: 2, pids: expect.any(Array) }]);
    expect(c.pids.source).toBe('api');
    // The API reads the same cgroup file; our own ps/cat probes may still be counted in it.
    expect(c.pids.current).toBeGreaterThanOrEqual(pidsFiles(w).current);
    expect(c.pids.max).toBeNull();
    expect(c.memoryBytes).toBeGreaterThan(0);
    expect(c.cpuPercent).not.toBeNull();
    // 1 + 3 x 3 = 10 processes <= --max-procs 15: a duplicate is a warning, not critical -> exit 0
    expect(c.status).toBe('warn');
    expect(r.code).toBe(0);
  });

  test('cleanup: dedupe through kill and cat in the container; the newest kept, trees gone per the kernel', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'remote-clean', trees: [{ npx: MAGIC, copies: 3 }, FIGMA, RUV], threads: 2 });
    const chains = liveChains(await waitForChains(w, 5));
    const magic = chains.filter((ch) => ch.npm.argv[0] === MAGIC_TITLE).sort((a, b) => a.npm.startTicks - b.npm.startTicks);
    expect(magic).toHaveLength(3);
    const r = await runPidwarden(['cleanup', '--docker-host', TCP, '--container', w.name, '--max-procs', '10', '--grace', '2']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // one kill line per tree level (deepest first); a parent that exited once its child was gone is listed as gone
    const term = lines.filter((l) => l.event === 'kill' && l.signal === 'SIGTERM');
    expect(term.length).toBeGreaterThan(0);
    for (const kill of term) {
      expect(kill.via).toBe('exec');
      expect(kill.hostPids).toBeUndefined(); // a remote engine's host PIDs are not ours to know
    }
    const covered = term.flatMap((l) => [...l.pids, ...(l.gonePids ?? [])]);
    const doomed = magic.slice(0, 2).flatMap((ch) => [ch.npm, ch.sh!, ch.node!]);
    expect(covered.sort((a: number, b: number) => a - b)).toEqual(doomed.map((p) => p.pid).sort((a, b) => a - b));
    await waitFor(() => {
      const now = hostProcsOfContainer(w).filter((p) => p.state !== 'Z');
      return doomed.every((d) => !now.some((p) => p.hostPid === d.hostPid && p.startTicks === d.startTicks));
    }, 10_000, 50, 'the two oldest magic trees to be gone');
    const left = hostProcsOfContainer(w).filter((p) => p.state !== 'Z');
    for (const p of [magic[2]!.npm, magic[2]!.sh!, magic[2]!.node!]) {
      expect(left.some((q) => q.hostPid === p.hostPid && q.startTicks === p.startTicks)).toBe(true);
    }
    const result = lines.find((l) => l.event === 'result');
    expect(result.healthy).toBe(true);
    expect(r.code).toBe(0);
  });

  test('a ps-less container over TCP: no process table, said so in problems, no crash', async () => {
    const w = await startWorkload({ image: 'nops', name: 'remote-nops', trees: [MAGIC], threads: 2 });
    await waitForChains(w, 1);
    const r = await runPidwarden(['audit', '--json', '--docker-host', TCP, '--container', w.name]);
    const c = JSON.parse(r.stdout).containers[0];
    expect(c.processes.source).toBe('none');
    expect(c.processes.total).toBeNull();
    expect(c.problems.join(' ')).toMatch(/ps|cgroup/);
    expect(c.pids.source).toBe('api');
    expect(r.code).toBe(0);

    // cleanup sees no process table and no pids pressure: no evidence, so no restart.
    const before = hostProcsOfContainer(w).map((p) => `${p.hostPid}/${p.startTicks}`).sort();
    const cl = await runPidwarden(['cleanup', '--docker-host', TCP, '--container', w.name, '--max-procs', '1']);
    const lines = cl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.event === 'restart' || l.event === 'kill')).toBe(false);
    expect(hostProcsOfContainer(w).map((p) => `${p.hostPid}/${p.startTicks}`).sort()).toEqual(before);
    // ... and it cannot show the container healthy either (pids.current is tasks, > --max-procs 1)
    expect(cl.code).toBe(1);
  });

  test('a container others join (--pid=container:X) is refused over TCP: its ps lists their processes and its kill reaches them', async () => {
    const x = await startWorkload({ image: 'busybox', name: 'remote-owner', reap: 'all', trees: [{ npx: MAGIC, copies: 3 }], threads: 2 });
    const joiner = await startWorkload({ image: 'busybox', name: 'remote-joiner', reap: 'all', trees: [{ npx: FIGMA, copies: 3 }], threads: 2, runArgs: [`--pid=container:${x.id}`] });
    // the namespace holds both: 6 npm chains (3 of each package)
    await waitForChains(x, 6);
    const alive = () => hostProcsOfContainer(x).filter((p) => p.state !== 'Z').map((p) => `${p.hostPid}/${p.startTicks}`);
    const before = alive();
    const a = await runPidwarden(['audit', '--json', '--docker-host', TCP, '--container', x.name]);
    const c = JSON.parse(a.stdout).containers[0];
    expect(c.layout.sharedPidNamespace).toBe(true);
    expect(c.layout.refusal).toContain(`joined by ${joiner.name}`);
    expect(c.processes.source).toBe('none');
    // unhealthy by --max-procs, every step allowed: refused all the same, nobody signalled
    const r = await runPidwarden(['cleanup', '--docker-host', TCP, '--container', x.name, '--max-procs', '3', '--grace', '1']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.event === 'kill' || l.event === 'restart')).toEqual([]);
    const after = new Set(alive());
    expect(before.filter((p) => !after.has(p))).toEqual([]);
  });
});

