/**
 * Notifications from the compiled binary, against loopback HTTP receivers of this test (one that
 * records, one that answers 500, one that never answers) and an --on-action program: the facts
 * arrive as the log states them, actions come first (a hanging receiver and a hanging hook delay no
 * kill and no cycle), failures are logged with their reason, and the webhook URL's credentials
 * never reach the log. Kernel truth from cgroup.procs; waits are waitFor(), never fixed sleeps.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupProcs, describeEngine, engine, PIDWARDEN_BIN, REPO_ROOT, RUN_ID, runPidwarden, startWorkload, TEST_STATE_FILE, waitFor, readJsonl } from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(90_000);

const MAX_PROCS = 8;
const LABEL_KEY = 'pidwarden-test.notify';

interface Line {
  event: string;
  level: string;
  containerId?: string;
  signal?: string;
  step?: string;
  pids?: number[];
  commands?: string[];
  channel?: string;
  reason?: string;
  [k: string]: unknown;
}

const readLog = (path: string): Line[] => readJsonl<Line>(path);

describeEngine('notifications: --on-action and --webhook', () => {
  let tmp = '';
  const received: { path: string; body: string; auth: string | null }[] = [];
  let failed = 0;
  let hung = 0;
  let recorder: ReturnType<typeof Bun.serve>;
  let broken: ReturnType<typeof Bun.serve>;
  let hanging: ReturnType<typeof Bun.serve>;
  let monitor: Subprocess<'ignore', 'pipe', 'pipe'> | null = null;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'pidwarden-notify-'));
    recorder = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: async (req) => (received.push({ path: new URL(req.url).pathname, body: await req.text(), auth: req.headers.get('authorization') }), new Response('ok')) });
    broken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (failed++, new Response('down', { status: 500 })) });
    hanging = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 0, fetch: () => (hung++, new Promise<Response>(() => {})) });
  });

  afterAll(async () => {
    if (monitor && monitor.exitCode === null) {
      monitor.kill('SIGKILL');
      await monitor.exited;
    }
    recorder.stop(true);
    broken.stop(true);
    hanging.stop(true);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const program = (name: string, body: string) => {
    const p = join(tmp, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  test('cleanup: the hook gets the facts of the kill step as logged; the webhook (slack) one message; no credential in the log', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'notify-cleanup', reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 5 }] });
    await waitFor(() => cgroupProcs(w).length > MAX_PROCS, 20_000, 100, 'the storm');
    const facts = join(tmp, 'facts');
    const hook = program('record', `{ echo "EVENT=$PIDWARDEN_EVENT"; echo "CONTAINER=$PIDWARDEN_CONTAINER"; echo "ID=$PIDWARDEN_CONTAINER_ID"; echo "STEP=$PIDWARDEN_STEP"; echo "PIDS=$PIDWARDEN_PIDS"; echo "DRY=$PIDWARDEN_DRY_RUN"; echo "REASON=$PIDWARDEN_REASON"; printf '%s\\n' "$PIDWARDEN_COMMANDS" | wc -l; echo ---; } >> ${facts}; echo "hook ran" >&2`);
    const log = join(tmp, 'cleanup.jsonl');
    received.length = 0;
    const r = await runPidwarden(['cleanup', '--container', w.id, '--max-procs', String(MAX_PROCS), '--grace', '1', '--log-file', log,
      '--on-action', hook, '--webhook', `http://alice:s3cret@127.0.0.1:${recorder.port}/services/T0/B0/TOKEN123`, '--webhook-format', 'slack']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(cgroupProcs(w).length).toBeLessThanOrEqual(MAX_PROCS);
    const lines = readLog(log);
    const kills = lines.filter((l) => l.event === 'kill' && l.signal === 'SIGTERM');
    const steps = [...new Set(kills.map((l) => l.step))];
    const pids = kills.flatMap((l) => l.pids ?? []);
    // the facts file has one block per kill step, in order
    const blocks = readFileSync(facts, 'utf8').split('---\n').filter(Boolean);
    expect(blocks).toHaveLength(steps.length);
    const first = blocks[0]!;
    expect(first).toContain('EVENT=kill\n');
    expect(first).toContain(`CONTAINER=${w.name}\n`);
    expect(first).toContain(`ID=${w.id}\n`);
    expect(first).toContain(`STEP=${steps[0]}\n`);
    const stepPids = kills.filter((l) => l.step === steps[0]).flatMap((l) => l.pids ?? []);
    expect(first).toContain(`PIDS=${stepPids.join(' ')}\n`);
    expect(first).toContain('DRY=false\n');
    expect(first).toContain(`\n${stepPids.length}\n`); // one command line a line
    expect(pids.length).toBeGreaterThanOrEqual(3);
    const hookLines = lines.filter((l) => l.event === 'notify' && l.channel === 'on-action');
    expect(hookLines.map((l) => [l['exitCode'], l['stderr'], l.reason])).toEqual(steps.map(() => [0, 'hook ran\n', 'ran']));
    // the webhook: one Slack message at once (the rest of the window would be folded into the next)
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/services/T0/B0/TOKEN123');
    expect(received[0]!.auth).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    const text = JSON.parse(received[0]!.body).text as string;
    expect(text).toContain(`${w.name}: killed ${stepPids.length} processes (step ${steps[0]}:`);
    const sent = lines.filter((l) => l.event === 'notify' && l.channel === 'webhook');
    expect(sent.map((l) => [l['status'], l['target']])).toEqual([[200, `http://127.0.0.1:${recorder.port}/…`]]);
    // every notify line after the action lines it reports
    const firstNotify = lines.findIndex((l) => l.event === 'notify');
    expect(firstNotify).toBeGreaterThan(lines.findIndex((l) => l.event === 'kill'));
    const raw = readFileSync(log, 'utf8') + r.stderr + r.stdout;
    expect(raw).not.toContain('s3cret');
    expect(raw).not.toContain('TOKEN123');
    expect(raw).not.toContain('alice');
  });

  test('cleanup with a receiver that answers 500: bounded retries, one warning, exit status unchanged', async () => {
    const w = await startWorkload({ image: 'busybox', name: 'notify-500', reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 5 }] });
    await waitFor(() => cgroupProcs(w).length > MAX_PROCS, 20_000, 100, 'the storm');
    const log = join(tmp, 'cleanup-500.jsonl');
    failed = 0;
    const r = await runPidwarden(['cleanup', '--container', w.id, '--max-procs', String(MAX_PROCS), '--grace', '1', '--log-file', log, '--webhook', `http://127.0.0.1:${broken.port}/hook?token=SECRETQ`]);
    expect(r.code).toBe(0);
    expect(failed).toBe(3);
    const warn = readLog(log).filter((l) => l.event === 'notify');
    expect(warn.map((l) => [l.level, l['attempts'], l.reason])).toEqual([['warn', 3, 'not delivered: HTTP 500']]);
    expect(readFileSync(log, 'utf8')).not.toContain('SECRETQ');
  });

  test('monitor with a receiver that never answers and a hook that hangs: the storm is cleaned and cycles go on; each notification ends at its deadline, logged', async () => {
    const log = join(tmp, 'monitor.jsonl');
    const hookEnv = join(tmp, 'hang-env');
    const hook = program('hang', `env > ${hookEnv}; exec sleep 600`);
    hung = 0;
    monitor = Bun.spawn(
      [PIDWARDEN_BIN, 'monitor', '--label', `${LABEL_KEY}=${RUN_ID}`, '--interval', '0.3', '--max-procs', String(MAX_PROCS), '--grace', '1', '--log-file', log,
        '--webhook', `http://127.0.0.1:${hanging.port}/hook`, '--webhook-format', 'ntfy', '--on-action', hook, '--heartbeat', '0.5'],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_HOST: engine.host ?? '', PIDWARDEN_STATE_FILE: TEST_STATE_FILE }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    await waitFor(() => readLog(log).some((l) => l.event === 'start'), 20_000, 50, 'the start line');
    const w = await startWorkload({ image: 'busybox', name: 'notify-monitor', labels: { [LABEL_KEY]: RUN_ID }, reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    await waitFor(() => readLog(log).some((l) => l.event === 'result' && l.containerId === w.id && l['healthy'] === true), 30_000, 100, 'the storm cleaned');
    expect(cgroupProcs(w).length).toBeLessThanOrEqual(MAX_PROCS);
    // the receiver holds its request and the hook still sleeps, yet the monitor keeps cycling
    await waitFor(() => hung >= 1, 20_000, 50, 'the webhook request held open');
    const resultAt = readLog(log).findIndex((l) => l.event === 'result' && l.containerId === w.id);
    await waitFor(() => readLog(log).slice(resultAt).some((l) => l.event === 'heartbeat'), 20_000, 50, 'a heartbeat after the cleanup: the loop is not held');
    // then each notification gives up at its deadline: the hook after 10 s, the webhook after 3 attempts of 5 s
    const hookLine = await waitFor(() => readLog(log).find((l) => l.event === 'notify' && l.channel === 'on-action'), 40_000, 100, 'the hook killed at its deadline');
    expect(hookLine).toMatchObject({ level: 'warn', signal: 'SIGKILL', reason: 'killed after the 10 s deadline' });
    // the monitor runs itself without the baseline JIT (src/main.ts); its hooks keep theirs
    expect(readFileSync(hookEnv, 'utf8')).not.toContain('BUN_JSC_');
    const webLine = await waitFor(() => readLog(log).find((l) => l.event === 'notify' && l.channel === 'webhook'), 60_000, 100, 'the webhook given up');
    expect(webLine).toMatchObject({ level: 'warn', attempts: 3, reason: 'not delivered: no answer in 5 s' });
    expect(hung).toBe(3);
    monitor.kill('SIGTERM');
    expect(await monitor.exited).toBe(0);
  });
});
