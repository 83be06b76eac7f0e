/**
 * The ladder's end every test lane runs (scripts/test.sh), against its host's engine and compared
 * with that host's kernel: a restart happens with evidence only, and then through that engine.
 *   - a busy worker pool (12 non-matching workers beside two npx helpers, one of them
 *     --protect-ed) over --max-procs, with --emergency: the other helper's tree goes, no restart
 *     (without it the pool is still over), the workers, the protected tree and PID 1 live on, the
 *     container keeps its run;
 *   - a container whose CMD is `npx -y hub` (PID 1 `npm exec hub`, its server below it): nothing
 *     is a runaway, nothing is signalled, no restart;
 *   - a PID 1 that never reaps, holding 8 zombies: a dry run signals nothing and leaves the run;
 *     then cleanup restarts it through the engine (a new init, a new StartedAt) and ends healthy.
 */
import { expect, setDefaultTimeout, test } from 'bun:test';
import { describeEngine, dockerOk, hostProcsOfContainer, IMAGES, initPidOf, liveChains, waitFor, type HostProc, type Workload } from '../integration/harness.ts';
import { cgroupMembers, cleanup, isDead, kills, runContainer, signalledHostPids, type Line } from '../integration/layout-kit.ts';
import { FIGMA, FIGMA_TITLE, MAGIC, MAGIC_TITLE } from '../integration/packages.ts';
import { LANE, laneResults } from './lane-results.ts';

const record = laneResults('ladder');
// Deadlines, not delays: on this host a condition holds in a second or two, in a lane's TCG VM
// work is ~10x slower (scripts/vm/README.md).
const LANE_WAIT_MS = 120_000;
const RUN_TIMEOUT_MS = 240_000;
setDefaultTimeout(600_000);

const startedAt = (w: Workload) => dockerOk('inspect', '-f', '{{.State.StartedAt}}', w.id);
const events = (lines: Line[], event: string) => lines.filter((l) => l.event === event);
const resultOf = (lines: Line[]) => events(lines, 'result')[0] as Line & { healthy?: boolean; after?: { processes: number | null } };
/** The app of the test images (test/workload/fakenode.c) as PID 1 of a shell-form run, its plan after it. */
const app = (...plan: string[]) => `exec node dist/index.js --quiet ${plan.map((a) => `'${a}'`).join(' ')}`;

describeEngine(`lane ${LANE}: a restart only with evidence`, () => {
  test('a busy worker pool with one npx helper and one --protect-ed, over --max-procs, --emergency: the helper goes, no restart, every worker and the protected tree live', async () => {
    const w = runContainer('pool', ['--entrypoint', '/bin/sh'], IMAGES.busybox, ['-c', app('--interval=0.05', '--reap=all', '--threads=1,1,1', 'proc/x12=|postgres: worker', `tree=${MAGIC}`, `tree=${FIGMA}`)]);
    const procs = await waitFor(() => {
      const ps = cgroupMembers(w);
      return ps.filter((p) => p.argv[0] === 'postgres: worker').length === 12 && liveChains(ps).length === 2 ? ps : null;
    }, LANE_WAIT_MS, 100, '12 workers and both helpers down to their servers');
    const helper = liveChains(procs).find((c) => c.npm.argv[0] === MAGIC_TITLE)!;
    const others = procs.filter((p) => ![helper.npm, helper.sh, helper.node].some((q) => q?.hostPid === p.hostPid));
    const started = startedAt(w);
    const r = await cleanup(['--container', w.name, '--emergency', '--max-procs', '6', '--protect', `^${FIGMA_TITLE}$`, '--grace', '1'], RUN_TIMEOUT_MS);
    // still over: 16 processes without the helper's 3, so a restart would bring them all back
    expect(events(r.lines, 'restart')).toEqual([]);
    expect(events(r.lines, 'restart-skipped')).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(startedAt(w)).toBe(started);
    await waitFor(() => [helper.npm, helper.sh!, helper.node!].every(isDead), LANE_WAIT_MS, 100, "the helper's tree gone");
    expect(others.filter(isDead).map((p) => p.argv.join(' '))).toEqual([]);
    const signalled = signalledHostPids(r.lines);
    expect(others.filter((p) => signalled.has(p.hostPid)).map((p) => p.argv.join(' '))).toEqual([]);
    record('pool', { processes: procs.length, signalled: signalled.size, protectedAlive: true, restarted: false });
  });

  test('a container whose CMD is `npx -y hub`: its PID 1 and its server are no runaway; nothing signalled, no restart', async () => {
    const hub = ['env', 'FAKENODE_ROLE=npm', 'FAKENODE_THREADS=1', 'FAKENODE_SERVER_THREADS=1', 'FAKENODE_SH=fake', 'node', '/usr/local/bin/npx', ...MAGIC.split(' ')];
    const w = runContainer('hub', ['--entrypoint', hub[0]!], IMAGES.busybox, hub.slice(1));
    const procs = await waitFor(() => {
      const ps = cgroupMembers(w);
      return liveChains(ps).length === 1 ? ps : null;
    }, LANE_WAIT_MS, 100, 'PID 1 npm exec hub down to its server');
    expect(procs.find((p) => p.hostPid === w.initPid)?.argv[0]).toBe(MAGIC_TITLE);
    const started = startedAt(w);
    const r = await cleanup(['--container', w.name, '--emergency', '--max-procs', '1', '--grace', '1'], RUN_TIMEOUT_MS);
    expect(kills(r.lines)).toEqual([]);
    expect(events(r.lines, 'restart')).toEqual([]);
    expect(r.code).toBe(1);
    expect(startedAt(w)).toBe(started);
    expect(procs.filter(isDead).map((p) => p.argv.join(' '))).toEqual([]);
    record('hub', { processes: procs.length, signalled: 0, restarted: false });
  });

  test('a PID 1 that never reaps, 8 zombies: the dry run changes nothing; cleanup restarts it through the engine and ends healthy', async () => {
    // The plan runs on the first start only (a marker in the container's own filesystem, which a
    // restart keeps): after the restart PID 1 is the app alone, so "healthy after" is no race
    // with the plan starting again.
    const firstRun = app('--interval=0.05', '--reap=none', '--threads=1,1,1', 'proc/x8=|node|/app/dist/jobs/run-once.js', `tree=${MAGIC}`);
    const script = `if [ -e /tmp/ran ]; then ${app()}; fi; touch /tmp/ran; ${firstRun}`;
    const w = runContainer('noreap', ['--entrypoint', '/bin/sh'], IMAGES.busybox, ['-c', script]);
    const jobs = await waitFor(() => {
      const ps = cgroupMembers(w);
      const j = ps.filter((p) => p.argv[1] === '/app/dist/jobs/run-once.js');
      return j.length === 8 && liveChains(ps).length === 1 ? j : null;
    }, LANE_WAIT_MS, 100, '8 jobs and one tree');
    for (const j of jobs) process.kill(j.hostPid, 'SIGKILL');
    const before = await waitFor(() => {
      const ps = hostProcsOfContainer(w);
      return ps.filter((p) => p.state === 'Z').length === 8 ? ps : null;
    }, LANE_WAIT_MS, 100, '8 zombies held by PID 1');
    const live = before.filter((p) => p.state !== 'Z');
    const started = startedAt(w);
    const init = initPidOf(w);

    // 1 + 8 zombies + 3 = 12 > 6; without the tree and the zombies 1
    const dry = await cleanup(['--container', w.name, '--emergency', '--dry-run', '--max-procs', '6', '--grace', '1'], RUN_TIMEOUT_MS);
    expect(events(dry.lines, 'restart').map((l) => l.dryRun)).toEqual([true]);
    expect(kills(dry.lines).every((l) => l.dryRun === true)).toBe(true);
    expect(live.filter(isDead).map((p: HostProc) => p.argv.join(' '))).toEqual([]);
    expect(startedAt(w)).toBe(started);

    const r = await cleanup(['--container', w.name, '--emergency', '--max-procs', '6', '--grace', '1'], RUN_TIMEOUT_MS);
    expect(events(r.lines, 'restart')).toHaveLength(1);
    expect(startedAt(w)).not.toBe(started);
    expect(initPidOf(w)).not.toBe(init);
    expect(live.every(isDead)).toBe(true);
    expect(resultOf(r.lines).healthy).toBe(true);
    expect(r.code).toBe(0);
    // the kernel: the new run is PID 1 alone
    expect(cgroupMembers(w).map((p) => p.argv.join(' '))).toEqual(['node dist/index.js --quiet']);
    record('restart', { processesBefore: before.length, zombiesBefore: 8, processesAfter: resultOf(r.lines).after?.processes ?? null });
  });
});
