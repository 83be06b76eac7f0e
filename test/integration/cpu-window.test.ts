// The audit's CPU %: over 0.1 s measured now when there is no recent audit, else over the time
// since the previous audit's last reading, kept in the state file (src/observe/cpu-mark.ts).
// Compared with the kernel's CPU counter of each container, read by this test around each run.
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupDir, describeEngine, dockerOk, outcome, removeAll, runPidwarden, startWorkload, waitFor, type Workload } from './harness.ts';

setDefaultTimeout(180_000);
const tmp = mkdtempSync(join(tmpdir(), 'pw-cpuwin-'));
const stateFile = join(tmp, 'state.json');
afterAll(() => {
  removeAll();
  rmSync(tmp, { recursive: true, force: true });
});

/** The container's CPU time in ns, as the kernel counts it (cgroup v1 cpuacct.usage, v2 cpu.stat). */
function cpuNs(w: Workload): number {
  const dir = cgroupDir(w, 'cpuacct');
  if (existsSync(`${dir}/cpuacct.usage`)) return Number(readFileSync(`${dir}/cpuacct.usage`, 'utf8').trim());
  const usec = /^usage_usec (\d+)$/m.exec(readFileSync(`${dir}/cpu.stat`, 'utf8'))![1]!;
  return Number(usec) * 1000;
}

interface Row {
  name: string;
  cpuPercent: number | null;
  cpuWindowSeconds: number | null;
}

/** One audit of the two containers, with the kernel's counters and the wall clock around it. */
async function audit(ws: Workload[], extra: string[] = []) {
  const before = ws.map(cpuNs);
  const startMs = Date.now();
  const r = await runPidwarden(['audit', '--json', '--state-file', stateFile, ...ws.flatMap((w) => ['--container', w.name]), ...extra], { timeoutMs: 120_000 });
  const endMs = Date.now();
  const after = ws.map(cpuNs);
  expect(outcome(r)).toEqual({ code: 0, timedOut: false });
  const rows = (JSON.parse(r.stdout) as { containers: Row[] }).containers;
  return { startMs, endMs, before, after, row: (w: Workload) => rows.find((c) => c.name === w.name)! };
}

describeEngine('audit CPU %: since the previous audit when there was one lately', () => {
  test('first audit: a 0.1 s window; the next: the time between them, the CPU equal to the kernel\'s; a restart starts afresh', async () => {
    const [busy, idle] = await Promise.all([
      startWorkload({ image: 'busybox', name: 'cpu-busy', trees: [] }),
      startWorkload({ image: 'busybox', name: 'cpu-idle', trees: [] }),
    ]);
    // a shell loop that never sleeps, in the busy container's cgroup (the workload's processes only sleep)
    dockerOk('exec', '-d', busy.id, 'sh', '-c', 'while :; do :; done');
    await waitFor(() => cpuNs(busy) >= 2e8, 60_000, 100, 'the busy loop running');
    const first = await audit([busy, idle]);
    for (const w of [busy, idle]) {
      const c = first.row(w);
      expect(c.cpuWindowSeconds!).toBeGreaterThanOrEqual(0.1);
      // measured within the run: never longer than the run itself
      expect(c.cpuWindowSeconds!).toBeLessThanOrEqual((first.endMs - first.startMs) / 1000 + 0.01);
    }
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { containers: Record<string, { cpuMark?: [number, number, string] }> };
    const mark = state.containers[busy.id]!.cpuMark!;
    expect(mark[2]).toBe(dockerOk('inspect', '-f', '{{.State.StartedAt}}', busy.id));
    expect(mark[1]).toBeGreaterThanOrEqual(first.before[0]!);
    expect(mark[1]).toBeLessThanOrEqual(first.after[0]!);

    // the busy loop uses at least 0.5 s of CPU after the first audit, however loaded this host is
    await waitFor(() => cpuNs(busy) - first.after[0]! >= 5e8, 60_000, 100, 'the busy loop\'s 0.5 s of CPU');
    const second = await audit([busy, idle], ['--proc-source', 'host']);
    for (const [i, w] of [busy, idle].entries()) {
      const c = second.row(w);
      // from the first audit's last reading to this one's
      expect(c.cpuWindowSeconds!).toBeGreaterThanOrEqual((second.startMs - first.endMs) / 1000 - 0.01);
      expect(c.cpuWindowSeconds!).toBeLessThanOrEqual((second.endMs - first.startMs) / 1000 + 0.01);
      // the CPU pidwarden says was used between its two readings lies between the kernel's counts
      const usedNs = (c.cpuPercent! / 100) * c.cpuWindowSeconds! * 1e9;
      const rounding = 0.00005 * c.cpuWindowSeconds! * 1e9 + 1e6; // cpuPercent's 2 decimals, the window's ms
      expect(usedNs).toBeGreaterThanOrEqual(second.before[i]! - first.after[i]! - rounding);
      expect(usedNs).toBeLessThanOrEqual(second.after[i]! - first.before[i]! + rounding);
    }
    expect(second.row(busy).cpuPercent!).toBeGreaterThan(second.row(idle).cpuPercent!);

    // a restarted container counts its CPU afresh: the mark of its earlier run is not used
    dockerOk('restart', '-t', '1', idle.id);
    const restarted = { ...idle, initPid: Number(dockerOk('inspect', '-f', '{{.State.Pid}}', idle.id)) };
    const third = await audit([busy, restarted]);
    expect(third.row(restarted).cpuWindowSeconds!).toBeLessThanOrEqual((third.endMs - third.startMs) / 1000 + 0.01);
    expect(third.row(busy).cpuWindowSeconds!).toBeGreaterThanOrEqual((third.startMs - second.endMs) / 1000 - 0.01);
  });
});
