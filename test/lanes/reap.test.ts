/**
 * Container floods on every test lane (scripts/test.sh): `reap` against its host's engine, checked
 * against that engine's own state (inspect) and the host's /proc. Four wrapper containers whose
 * owner label (`mcpmon.pid`) names a host PID: one dead (an orphan: stopped and removed with
 * --remove, its anonymous volume kept), one alive (kept), one dead but compose-managed (stopped, never removed) and one dead
 * but labelled pidwarden.reap=false (never stopped); and one with a dead owner that a sidecar joins
 * with --pid=container:X (never stopped: its init's end would SIGKILL the sidecar's processes,
 * which nobody selected). A dry run first touches none of them.
 * The other flood cases (idle servers, piles, --max-age, PID reuse) are in
 * test/integration/reap.test.ts, on lane docker20-v1.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { describeEngine, docker, dockerOk, IMAGES, parseJsonl, RUN_ID, RUN_LABEL, runPidwarden } from '../integration/harness.ts';
import { LANE, laneResults } from './lane-results.ts';

const record = laneResults('reap');
// a docker run takes ~9 s in a lane's TCG VM (scripts/vm/README.md)
setDefaultTimeout(600_000);
const RUN_TIMEOUT_MS = 240_000;

const owners: Subprocess[] = [];
afterAll(() => {
  for (const p of owners) p.kill('SIGKILL');
});

/** `sleep` as PID 1 (it ignores SIGTERM: --stop-timeout 1 keeps each stop short). */
function wrapper(name: string, labels: Record<string, string>, extra: string[] = []): string {
  const l = Object.entries({ [RUN_LABEL]: RUN_ID, reaplane: RUN_ID, ...labels }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  return dockerOk('run', '-d', '--network', 'none', '--stop-timeout', '1', '--name', `${RUN_ID}-reap-${name}`, ...l, ...extra, '--entrypoint', 'sleep', IMAGES.busybox, '1000');
}

function stateOf(id: string): { exists: boolean; running: boolean } {
  const r = docker('inspect', '-f', '{{.State.Running}}', id);
  return r.code !== 0 ? { exists: false, running: false } : { exists: true, running: r.stdout.trim() === 'true' };
}

/** A host PID that was real and is dead now. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(['sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  p.kill('SIGKILL');
  await p.exited;
  return p.pid;
}

/**
 * The whole run in the test's output when a wrapper has no reap line: what pidwarden made of it. Two
 * series side by side lost Podman 5's run of this test that way, once in the dry run (the joined
 * wrapper) and once in the real run (the orphan), while it passed alone and beside busy loops.
 */
function sayWhenMissing(what: string, run: { code: number; stdout: string; stderr: string }, lines: ReapLine[], ids: string[]): void {
  const missing = ids.filter((id) => !lines.some((l) => l.containerId === id));
  if (missing.length > 0) console.error(`${what}: exit ${run.code}, no reap line for ${missing.join(', ')}:\n${run.stdout}\n${run.stderr}`);
}

interface ReapLine {
  event: string;
  containerId: string;
  rule?: string;
  action?: string;
  result?: string;
  compose?: boolean;
}

describeEngine(`lane ${LANE}: reap`, () => {
  test('orphans by a dead owner PID: stopped and removed (not their volumes); a live owner, compose, pidwarden.reap=false and a joined one as the README says; a dry run first touches nothing', async () => {
    const owner = Bun.spawn(['sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    owners.push(owner);
    const dead = String(await deadPid());
    // with an anonymous volume: --remove never takes volumes with it
    const orphan = wrapper('orphan', { 'mcpmon.pid': dead }, ['-v', '/data']);
    const volume = dockerOk('inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', orphan);
    expect(volume).not.toBe('');
    const alive = wrapper('alive', { 'mcpmon.pid': String(owner.pid) });
    const compose = wrapper('compose', { 'mcpmon.pid': dead, 'com.docker.compose.project': 'mcp', 'com.docker.compose.service': 'hub', 'com.docker.compose.container-number': '1' });
    const kept = wrapper('kept', { 'mcpmon.pid': dead, 'pidwarden.reap': 'false' });
    const joined = wrapper('joined', { 'mcpmon.pid': dead });
    // not selected (no reaplane label), in the joined wrapper's PID namespace
    const sidecar = dockerOk('run', '-d', '--network', 'none', '--label', `${RUN_LABEL}=${RUN_ID}`, '--name', `${RUN_ID}-reap-sidecar`, '--pid', `container:${joined}`, '--entrypoint', 'sleep', IMAGES.busybox, '1001');
    const all = [orphan, alive, compose, kept, joined];

    const dry = await runPidwarden(['reap', '--label', `reaplane=${RUN_ID}`, '--remove', '--dry-run'], { timeoutMs: RUN_TIMEOUT_MS });
    // the dry run says what the real run will: the joined wrapper's stop is refused (exit 1)
    const dryLines = parseJsonl<ReapLine>(dry.stdout).filter((l) => l.event === 'reap');
    sayWhenMissing('reap --dry-run', dry, dryLines, [orphan, compose, kept, joined]);
    expect(dryLines.find((l) => l.containerId === joined)?.result).toBe('refused');
    expect(dry.code).toBe(1);
    for (const id of all) expect(stateOf(id)).toEqual({ exists: true, running: true });

    const r = await runPidwarden(['reap', '--label', `reaplane=${RUN_ID}`, '--remove'], { timeoutMs: RUN_TIMEOUT_MS });
    const lines = parseJsonl<ReapLine>(r.stdout).filter((l) => l.event === 'reap');
    sayWhenMissing('reap', r, lines, [orphan, compose, kept, joined]);
    const by = (id: string) => lines.find((l) => l.containerId === id);
    expect(by(orphan)).toMatchObject({ rule: 'orphan', action: 'stop+remove', result: 'removed' });
    expect(by(compose)).toMatchObject({ rule: 'orphan', action: 'stop', result: 'stopped', compose: true });
    expect(by(kept)).toMatchObject({ rule: 'orphan', action: 'none', result: 'kept' });
    expect(by(joined)).toMatchObject({ rule: 'orphan', result: 'refused' });
    expect(String((by(joined) as { error?: string }).error)).toContain(`${RUN_ID}-reap-sidecar`);
    expect(by(alive)).toBeUndefined();
    // a refused stop is exit 1 (README: reap's exit codes)
    expect(r.code).toBe(1);
    // the engine's word
    expect(stateOf(orphan).exists).toBe(false);
    expect(dockerOk('volume', 'ls', '-q').split('\n')).toContain(volume);
    docker('volume', 'rm', volume);
    expect(stateOf(compose)).toEqual({ exists: true, running: false });
    expect(stateOf(kept)).toEqual({ exists: true, running: true });
    expect(stateOf(alive)).toEqual({ exists: true, running: true });
    expect(stateOf(joined)).toEqual({ exists: true, running: true });
    expect(stateOf(sidecar)).toEqual({ exists: true, running: true });
    record('reap', { wrappers: all.length, removed: 1, stopped: 1, kept: 2, joinedKept: 1 });
  });
});
