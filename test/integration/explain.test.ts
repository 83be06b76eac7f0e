/**
 * Explain the storm, against the REAL private engine: the pids limit as configured, in force and
 * hit (each verdict staged through the cgroup fs the way it happens on real hosts), zombies and PID
 * 1 with and without --init, growth measured across repeated audits, and `explain` on a
 * 300-process storm: 80 columns, and a plan naming exactly what the following cleanup kills.
 * Every figure is compared with the kernel's (the cgroup files, host /proc).
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeEngine,
  PIDWARDEN_BIN,
  pidwardenEnv,
  hostProcsOfContainer,
  isNpm,
  liveChains,
  pidsFiles,
  runPidwarden,
  startWorkload,
  waitFor,
  waitForChains,
  type Workload,
} from './harness.ts';
import { MAGIC, RUV } from './packages.ts';

setDefaultTimeout(240_000);

const tmp = mkdtempSync(join(tmpdir(), 'pwt-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Limit {
  configured: number | null;
  inForce: number | null;
  heldBy: string | null;
  enforceable: boolean | null;
  forksRefused: number | null;
  peak: number | null;
  verdict: string;
  line: string;
}
interface Container {
  id: string;
  name: string;
  status: string;
  reasons: string[];
  notes: string[];
  limit: Limit;
  growth: { perHour: number | null; windowSeconds: number; samples: number; toMaxProcsSeconds: number | null; toPidsMaxSeconds: number | null };
  processes: { total: number };
}

async function audit(ws: Workload[], args: string[] = [], stateFile = join(tmp, 'state.json')): Promise<Map<string, Container>> {
  const r = await runPidwarden(['audit', '--json', '--state-file', stateFile, ...ws.flatMap((w) => ['--container', w.id]), ...args]);
  expect(r.stderr).toBe('');
  const doc = JSON.parse(r.stdout) as { containers: Container[] };
  return new Map(doc.containers.map((c) => [c.id, c]));
}

const eventsMax = (w: Workload) => Number(/^max (\d+)$/m.exec(readFileSync(join(pidsFiles(w).dir, 'pids.events'), 'utf8'))![1]);
const SMALL = { app: 1, npm: 1, node: 1 };

describeEngine('the pids limit: configured, in force, hit', () => {
  test('none, not-in-force, below-current and hit, each as the kernel has it', async () => {
    const [none, lifted, lowered, full] = await Promise.all([
      startWorkload({ image: 'busybox', name: 'nolimit', interval: 0.05, trees: [MAGIC] }),
      // few threads: it stays under its 25 before the limit is lifted (else it is 'hit' first)
      startWorkload({ image: 'busybox', name: 'lifted', interval: 0.05, pidsLimit: 25, threads: SMALL, trees: [MAGIC] }),
      startWorkload({ image: 'busybox', name: 'lowered', interval: 0.05, pidsLimit: 200, threads: SMALL, trees: [{ npx: MAGIC, copies: 4 }] }),
      startWorkload({ image: 'busybox', name: 'full', interval: 0.05, pidsLimit: 40, trees: [{ npx: MAGIC, copies: 10 }] }),
    ]);
    await Promise.all([waitForChains(none, 1), waitForChains(lifted, 1), waitForChains(lowered, 4)]);
    // behind the engine's back: the limit lifted to max, another lowered under the running count
    writeFileSync(join(pidsFiles(lifted).dir, 'pids.max'), 'max');
    writeFileSync(join(pidsFiles(lowered).dir, 'pids.max'), '5');
    // the full one's app keeps failing to fork: the kernel counts each refusal
    await waitFor(() => eventsMax(full) > 0, 30_000, 100, 'forks refused in the full container');
    const refusedBefore = eventsMax(full);
    const by = await audit([none, lifted, lowered, full]);
    const refusedAfter = eventsMax(full);

    expect(by.get(none.id)!.limit).toMatchObject({ configured: null, inForce: null, verdict: 'none', enforceable: true });
    expect(by.get(lifted.id)!.limit).toMatchObject({ configured: 25, inForce: null, verdict: 'not-in-force' });
    expect(by.get(lifted.id)!.reasons.join('\n')).toContain('limit not in force: configured 25, but the cgroup has none');
    const low = by.get(lowered.id)!;
    expect(low.limit).toMatchObject({ configured: 200, inForce: 5, heldBy: pidsFiles(lowered).dir, verdict: 'below-current' });
    expect(pidsFiles(lowered).current).toBeGreaterThan(5);
    const f = by.get(full.id)!;
    expect(f.limit).toMatchObject({ configured: 40, inForce: 40, heldBy: pidsFiles(full).dir, verdict: 'hit' });
    expect(f.limit.forksRefused!).toBeGreaterThanOrEqual(refusedBefore);
    expect(f.limit.forksRefused!).toBeLessThanOrEqual(refusedAfter);
    expect(f.limit.line).toMatch(/^limit hit: \d+ forks? refused since the container started/);
    expect(f.status).toBe('critical'); // 40 of 40 tasks is pids pressure as well

    // the same verdicts in the Prometheus textfile
    const prom = join(tmp, 'limits.prom');
    await runPidwarden(['audit', '--prom-file', prom, '--state-file', join(tmp, 'prom-state.json'), '--container', lifted.id, '--container', none.id]);
    const text = readFileSync(prom, 'utf8');
    expect(text).toMatch(new RegExp(`^pidwarden_container_limit_verdict\\{[^}]*name="${lifted.name}"[^}]*verdict="not-in-force"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^pidwarden_container_pids_limit_configured\\{[^}]*name="${lifted.name}"[^}]*\\} 25$`, 'm'));
    expect(text).toMatch(new RegExp(`^pidwarden_container_limit_verdict\\{[^}]*name="${none.name}"[^}]*verdict="none"\\} 1$`, 'm'));
    // the next audit counts from its own previous sample (kept in the state file)
    await waitFor(() => eventsMax(full) > refusedAfter, 30_000, 100, 'more refusals');
    const again = (await audit([full])).get(full.id)!;
    expect(again.limit.line).toContain('since the previous sample');
  });

  test('zombies: PID 1 named, and the fix (init) when the container has none', async () => {
    const plain = await startWorkload({ image: 'busybox', name: 'noinit', interval: 0.05, reap: 'none', trees: [{ npx: MAGIC, copies: 2 }] });
    const withInit = await startWorkload({ image: 'busybox', name: 'init', interval: 0.05, reap: 'none', trees: [{ npx: RUV, copies: 2 }], runArgs: ['--init'] });
    for (const w of [plain, withInit]) {
      await waitForChains(w, 2);
      process.kill(hostProcsOfContainer(w).find(isNpm)!.hostPid, 'SIGKILL');
      await waitFor(() => hostProcsOfContainer(w).some((p) => p.state === 'Z'), 10_000, 50, 'a zombie');
    }
    const by = await audit([plain, withInit]);
    expect(by.get(plain.id)!.notes.join('\n')).toMatch(/zombies?: PID 1 is `node dist\/index\.js` and the container has no init .*init: true.*--init/);
    const note = by.get(withInit.id)!.notes.join('\n');
    expect(note).toContain('the container has an init as PID 1');
    expect(note).not.toContain('--init');
  });
});

describeEngine('growth between repeated audits', () => {
  test('a growing container: a positive rate of the kernel order of magnitude, and a forecast', async () => {
    // one tree (3 processes) every 2 s: about 5,400 processes an hour
    const w = await startWorkload({ image: 'busybox', name: 'growing', interval: 2, threads: SMALL, trees: [{ npx: MAGIC, copies: 200 }] });
    await waitForChains(w, 1);
    const state = join(tmp, 'growth-state.json');
    const kernel: { t: number; n: number }[] = [];
    let last: Container | undefined;
    const t0 = Date.now();
    for (const at of [0, 61_000, 122_000]) {
      // samples are kept one a minute (55 s apart at least): the audits wait for the clock
      await waitFor(() => Date.now() >= t0 + at, at + 10_000, 250, `${at / 1000} s since the first audit`);
      const before = hostProcsOfContainer(w).length;
      last = (await audit([w], ['--max-procs', '2000'], state)).get(w.id)!;
      kernel.push({ t: Date.now(), n: (before + hostProcsOfContainer(w).length) / 2 });
    }
    const g = last!.growth;
    expect(g.samples).toBe(3);
    const kernelPerHour = ((kernel[2]!.n - kernel[0]!.n) / (kernel[2]!.t - kernel[0]!.t)) * 3_600_000;
    expect(kernelPerHour).toBeGreaterThan(1000);
    expect(g.perHour!).toBeGreaterThan(kernelPerHour * 0.7);
    expect(g.perHour!).toBeLessThan(kernelPerHour * 1.3);
    // 2000 processes at that rate: minutes to hours, and said in the notes
    expect(g.toMaxProcsSeconds!).toBeGreaterThan(0);
    expect(last!.notes.join('\n')).toMatch(/^growth: \+[\d.]+\/h over the last 1 h \(3 samples\); reaches max-procs in /m);
  });
});

describeEngine('explain on a 300-process storm', () => {
  test('fits 80 columns off a terminal, folds the runs, and plans exactly what cleanup then kills', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'storm300', interval: 0.02, reap: 'all', threads: SMALL, trees: [{ npx: MAGIC, copies: 100 }] });
    await waitForChains(w, 100, 60_000);
    const stable = await waitFor(() => {
      const n = hostProcsOfContainer(w).length;
      return n === 301 ? n : null;
    }, 30_000, 200, '301 processes');
    expect(stable).toBe(301);

    const text = await runPidwarden(['explain', w.name, '--state-file', join(tmp, 'x.json')]);
    expect(text.code).toBe(1); // critical
    const lines = text.stdout.trimEnd().split('\n');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(text.stdout).not.toContain('\x1b['); // no colour off a terminal
    expect(text.stdout).toContain('processes: 301');
    expect(text.stdout).toMatch(/… 98 more trees of `npm exec @21st-dev\/magic@latest/);
    expect(text.stdout).toContain('1. dedupe');
    expect(lines.length).toBeLessThan(60);

    const json = await runPidwarden(['explain', w.name, '--json', '--state-file', join(tmp, 'x.json')]);
    const doc = JSON.parse(json.stdout) as { plan: { steps: { step: string; victims: { pid: number; pids: number[] }[] }[] }; processes: { total: number; tree: unknown[] } };
    expect(doc.processes.total).toBe(301);
    expect(doc.processes.tree).toHaveLength(301);
    const planned = doc.plan.steps[0]!;
    expect(planned.step).toBe('dedupe');
    expect(planned.victims).toHaveLength(99);
    const plannedPids = planned.victims.flatMap((v) => v.pids).sort((a, b) => a - b);

    const r = await runPidwarden(['cleanup', '--container', w.name, '--grace', '1']);
    expect(r.code).toBe(0);
    type Kill = { event: string; signal?: string; pids?: number[]; gonePids?: number[]; step?: string };
    const term = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Kill).filter((l) => l.event === 'kill' && l.signal === 'SIGTERM');
    // one line per tree level; a process already gone when its level came (its child died first)
    // is listed as gone, not as signalled: together they are exactly the plan
    expect(new Set(term.map((l) => l.step))).toEqual(new Set(['dedupe']));
    expect(term.flatMap((l) => [...l.pids!, ...(l.gonePids ?? [])]).sort((a, b) => a - b)).toEqual(plannedPids);
    expect(liveChains(hostProcsOfContainer(w))).toHaveLength(1);
  });
});

describeEngine('explain names one container', () => {
  test('exactly the container asked for, among several; a missing one is a usage error', async () => {
    const [a, b] = await Promise.all([
      startWorkload({ image: 'busybox', name: 'explain-a', interval: 0.05, trees: [MAGIC] }),
      startWorkload({ image: 'busybox', name: 'explain-b', interval: 0.05, trees: [RUV] }),
    ]);
    await Promise.all([waitForChains(a, 1), waitForChains(b, 1)]);
    for (const w of [b, a]) {
      const r = await runPidwarden(['explain', w.name, '--json', '--state-file', join(tmp, 'one.json')]);
      expect((JSON.parse(r.stdout) as { container: { id: string } }).container.id).toBe(w.id);
    }
    const missing = await runPidwarden(['explain', 'no-such-container-here']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('pidwarden: no such container: no-such-container-here\n');
    const none = await runPidwarden(['explain']);
    expect(none.code).toBe(2);
    // the audit's probes run concurrently, bounded: the same answer, in the same order, either way
    const ids = async (n: string) =>
      (JSON.parse((await runPidwarden(['audit', '--json', '--concurrency', n, '--container', a.id, '--container', b.id, '--state-file', join(tmp, 'c.json')])).stdout) as { containers: { id: string; processes: { total: number } }[] }).containers.map((c) => `${c.id}:${c.processes.total}`);
    expect(await ids('1')).toEqual(await ids('8'));
  });
});

describeEngine('the monitor samples growth too', () => {
  test('one sample a container a minute, not one a cycle, in its state file', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'sampled', interval: 0.05, trees: [MAGIC], labels: { 'pidwarden.enable': 'true' } });
    await waitForChains(w, 1);
    const state = join(tmp, 'monitor-state.json');
    const log = join(tmp, 'monitor-samples.jsonl');
    const proc = Bun.spawn([PIDWARDEN_BIN, 'monitor', '--container', w.name, '--interval', '0.3', '--heartbeat', '0.5', '--state-file', state, '--log-file', log], {
      env: pidwardenEnv(),
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
    });
    try {
      const samples = () => (existsSync(state) ? ((JSON.parse(readFileSync(state, 'utf8')) as { containers: Record<string, { samples?: unknown[] }> }).containers[w.id]?.samples ?? []) : []);
      await waitFor(() => samples().length === 1, 20_000, 100, 'the first sample');
      // several cycles later (heartbeats count them), still one: the next is due a minute on
      await waitFor(() => readFileSync(log, 'utf8').split('\n').filter(Boolean).some((l) => (JSON.parse(l) as { cycles?: number }).cycles! >= 5), 20_000, 100, '5 cycles');
      expect(samples()).toHaveLength(1);
      const [t, processes, , tasks] = samples()[0] as [number, number, number | null, number];
      expect(t).toBeGreaterThan(Date.now() - 60_000);
      expect(processes).toBe(4); // PID 1 and one npm exec tree (the healthy container's cheap figures)
      expect(tasks).toBeGreaterThanOrEqual(4);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
    }
  });
});

