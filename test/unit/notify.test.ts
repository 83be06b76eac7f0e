// Notifications: the action log's lines gathered into actions, the bodies each receiver takes, the
// URL never logged, and delivery against real loopback HTTP receivers (one that records, one that
// answers 500, one that never answers) and a real --on-action program.
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLineFields, type SignalBatch } from '../../src/act/kill-trees.ts';
import type { Target } from '../../src/act/identity.ts';
import type { ActionFields, ActionLog } from '../../src/log/logger.ts';
import { ActionCollector, type Action } from '../../src/notify/action.ts';
import { summaryText, webhookBody } from '../../src/notify/format.ts';
import { actionEnv, checkProgram, OnActionRunner } from '../../src/notify/on-action.ts';
import { redactUrl, splitCredentials } from '../../src/notify/redact.ts';
import { WebhookSender } from '../../src/notify/webhook.ts';

const ID = '5e7f0c3a9b1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f';
const ids = { container: 'metamcp', containerId: ID };
const NOW = Date.UTC(2026, 10, 21, 6, 34, 58);

/** The ladder's lines of one cleanup, as src/act/ladder-run.ts logs them (fields as in the README's example). */
const LADDER: ActionFields[] = [
  { event: 'step', ...ids, step: 'dedupe', reason: 'duplicate command lines, keeping the newest 1 of each', dryRun: false, victims: 3, processes: 9 },
  { event: 'kill', ...ids, step: 'dedupe', signal: 'SIGTERM', pids: [17, 28, 29], commands: ['npm exec @21st-dev/magic@latest', "sh -c 'magic'", 'node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic'], via: 'exec', dryRun: false },
  { event: 'kill', ...ids, step: 'dedupe', signal: 'SIGTERM', pids: [73], commands: ['npm exec @21st-dev/magic@latest'], via: 'exec', dryRun: false },
  { event: 'kill', ...ids, step: 'dedupe', signal: 'SIGKILL', pids: [73], commands: ['npm exec @21st-dev/magic@latest'], via: 'exec', dryRun: false },
  { event: 'step', ...ids, step: 'oldest', reason: 'oldest runaway trees first, until healthy', dryRun: false },
  { event: 'kill', ...ids, step: 'oldest', signal: 'SIGTERM', pids: [111], commands: ['npm exec ruv-swarm mcp start'], via: 'exec', dryRun: false },
  { event: 'step', ...ids, step: 'restart', reason: 'still unhealthy after the kill steps', dryRun: false },
  { event: 'restart', ...ids, step: 'restart', reason: 'stop timeout 10s (engine default)', dryRun: false },
  { event: 'restart-suppressed', ...ids, step: 'restart', reason: 'restart limit 3/1h reached', dryRun: false },
  { event: 'result', ...ids, healthy: true, dryRun: false },
];

function collect(lines: ActionFields[]): Action[] {
  const out: Action[] = [];
  const c = new ActionCollector((a) => out.push(a));
  for (const l of lines) c.feed(l, NOW);
  return out;
}

function recordingLog(): ActionLog & { lines: ActionFields[] } {
  const lines: ActionFields[] = [];
  return { lines, info: (f) => void lines.push(f), warn: (f) => void lines.push(f), error: (f) => void lines.push(f), reopen() {}, flush() {}, lost: 0 };
}

const waitFor = async <T>(pred: () => T, timeoutMs = 15_000): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('actions from the log', () => {
  test('a kill step gathers its SIGTERM batches (SIGKILL names the same processes again); restarts and withheld ones are one action each', () => {
    const actions = collect(LADDER);
    expect(actions.map((a) => [a.event, a.step, a.pids])).toEqual([
      ['kill', 'dedupe', [17, 28, 29, 73]],
      ['kill', 'oldest', [111]],
      ['restart', 'restart', []],
      ['restart-suppressed', 'restart', []],
    ]);
    expect(actions[0]!.reason).toBe('duplicate command lines, keeping the newest 1 of each');
    expect(actions[0]!.commands).toHaveLength(4);
  });

  test('two containers interleaved stay apart; an open step ends with the run', () => {
    const other = { container: 'other', containerId: 'f'.repeat(64) };
    const out: Action[] = [];
    const c = new ActionCollector((a) => out.push(a));
    c.feed({ event: 'step', ...ids, step: 'all', dryRun: true }, NOW);
    c.feed({ event: 'step', ...other, step: 'dedupe', dryRun: false }, NOW);
    c.feed({ event: 'kill', ...ids, step: 'all', signal: 'SIGTERM', pids: [5], commands: ['npm exec a'], dryRun: true }, NOW);
    c.feed({ event: 'kill', ...other, step: 'dedupe', signal: 'SIGTERM', pids: [9], commands: ['npm exec b'], dryRun: false }, NOW);
    expect(out).toEqual([]);
    c.flushAll(NOW);
    expect(out.map((a) => [a.container, a.pids, a.dryRun])).toEqual([
      ['metamcp', [5], true],
      ['other', [9], false],
    ]);
  });

  test('a ladder that lost the engine has no result line: engine-down ends its kill step, which is told at once', () => {
    const out: Action[] = [];
    const c = new ActionCollector((a) => out.push(a));
    c.feed({ event: 'step', ...ids, step: 'dedupe', dryRun: false }, NOW);
    c.feed({ event: 'kill', ...ids, step: 'dedupe', signal: 'SIGTERM', pids: [17], commands: ['npm exec a'], dryRun: false }, NOW);
    c.feed({ event: 'heartbeat' }, NOW);
    expect(out).toEqual([]);
    c.feed({ event: 'engine-down', reason: 'cannot reach the Docker engine' }, NOW + 1000);
    expect(out.map((a) => [a.event, a.step, a.pids, a.time])).toEqual([['kill', 'dedupe', [17], new Date(NOW + 1000).toISOString()]]);
  });
});

describe('errors within a kill step', () => {
  // The lines the ladder logs (src/act/ladder-run.ts logKill and carryOutKill) for a step whose
  // deepest level no route could signal: the host route refused, the exec route then killed it.
  const t = (pid: number, command: string): Target => ({ pid, command });
  const batch = (b: Partial<SignalBatch>): SignalBatch => ({ signal: 'SIGTERM', via: 'host', level: 1, targets: [], gone: [], reused: [], failed: [], ...b });
  const refused = batch({ failed: [t(28, "sh -c 'magic'"), t(29, 'node magic')], failure: 'host signal failed: EPERM' });
  const lines: ActionFields[] = [
    { event: 'step', ...ids, step: 'oldest', reason: 'oldest runaway trees first, until healthy', dryRun: false },
    { event: 'error', ...ids, step: 'oldest', ...killLineFields(refused), reason: refused.failure, dryRun: false },
    { event: 'kill', ...ids, step: 'oldest', ...killLineFields(batch({ via: 'exec', targets: [t(28, "sh -c 'magic'"), t(29, 'node magic')] })), reason: 'oldest', dryRun: false },
    { event: 'kill', ...ids, step: 'oldest', ...killLineFields(batch({ via: 'exec', level: 0, targets: [t(17, 'npm exec magic')] })), reason: 'oldest', dryRun: false },
    { event: 'error', ...ids, step: 'oldest', pids: [29], reason: 'still alive after SIGKILL (uninterruptible sleep?)', dryRun: false },
    { event: 'step', ...ids, step: 'restart', reason: 'still unhealthy after the kill steps', dryRun: false },
  ];

  test('an error line of the step does not end it: every victim is listed, and the errors with them', () => {
    const [kill, ...rest] = collect(lines);
    expect(rest).toEqual([]);
    expect(kill).toMatchObject({ event: 'kill', step: 'oldest', pids: [28, 29, 17] });
    expect(kill!.commands).toHaveLength(3);
    expect(kill!.errors).toEqual(['host signal failed: EPERM (PIDs 28 29)', 'still alive after SIGKILL (uninterruptible sleep?) (PID 29)']);
  });

  test('the errors reach the hook, the JSON and the text', () => {
    const [kill] = collect(lines);
    expect(actionEnv(kill!).PIDWARDEN_ERRORS).toBe('host signal failed: EPERM (PIDs 28 29)\nstill alive after SIGKILL (uninterruptible sleep?) (PID 29)');
    const msg = { action: kill!, folded: 0, host: 'h' };
    expect(JSON.parse(webhookBody('json', msg).body).errors).toEqual(kill!.errors);
    expect(summaryText(msg)).toEndWith('; error: host signal failed: EPERM (PIDs 28 29) (+1 more)');
  });

  test('an error line of another kind (no step: a probe, the engine) still ends the open step', () => {
    const out = collect([lines[0]!, { event: 'error', ...ids, reason: 'ps timed out', dryRun: false }, lines[2]!]);
    expect(out.map((a) => [a.step, a.pids, a.errors])).toEqual([['oldest', [], []]]);
  });
});

describe('bodies', () => {
  const [kill] = collect(LADDER);
  const msg = { action: kill!, folded: 2, host: 'docker-host-1' };

  test('one line of text, with the count folded in', () => {
    expect(summaryText(msg)).toBe(
      'pidwarden on docker-host-1: metamcp: killed 4 processes (step dedupe: duplicate command lines, keeping the newest 1 of each) (+2 more actions on this container since the last message)',
    );
  });

  test('slack text, discord content, ntfy message with title and tags, our json', () => {
    expect(JSON.parse(webhookBody('slack', msg).body)).toEqual({ text: summaryText(msg) });
    expect(JSON.parse(webhookBody('discord', msg).body)).toEqual({ content: summaryText(msg) });
    const ntfy = webhookBody('ntfy', msg);
    expect(ntfy.body).toBe(summaryText(msg));
    expect(ntfy.headers).toMatchObject({ title: 'pidwarden: kill in metamcp', tags: 'warning' });
    const json = JSON.parse(webhookBody('json', msg).body);
    expect(json).toMatchObject({ source: 'pidwarden', event: 'kill', container: 'metamcp', containerId: ID, step: 'dedupe', processes: 4, pids: [17, 28, 29, 73], folded: 2, dryRun: false });
  });

  test('discord: never over its 2000-character limit', () => {
    const long = { ...msg, action: { ...kill!, reason: 'x'.repeat(5000) } };
    expect(JSON.parse(webhookBody('discord', long).body).content.length).toBe(2000);
  });
});

describe('credentials', () => {
  test('only scheme and host are ever shown', () => {
    expect(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('http://user:pa55@127.0.0.1:8080/topic?auth=tok')).toBe('http://127.0.0.1:8080/…');
  });

  test('userinfo becomes a basic Authorization header, out of the URL', () => {
    const s = splitCredentials('http://user:p%40ss@127.0.0.1:8080/hook');
    expect(s.url).toBe('http://127.0.0.1:8080/hook');
    expect(s.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});

describe('webhook against loopback receivers', () => {
  const received: { body: string; auth: string | null; at: number }[] = [];
  let failing = 0;
  const recorder = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: async (req) => (received.push({ body: await req.text(), auth: req.headers.get('authorization'), at: Date.now() }), new Response('ok')) });
  const broken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (failing++, new Response('no', { status: 500 })) });
  let hung = 0;
  const hanging = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (hung++, new Promise<Response>(() => {})) });
  afterAll(() => {
    recorder.stop(true);
    broken.stop(true);
    hanging.stop(true);
  });
  const actions = collect(LADDER);

  test('records: one message, then the rest of the window folded into the next, with its count', async () => {
    received.length = 0;
    const log = recordingLog();
    const w = new WebhookSender({ url: `http://alice:s3cret@127.0.0.1:${recorder.port}/hook/SECRETPATH`, format: 'json', everyMs: 1500, log });
    for (const a of actions) w.offer(a);
    await waitFor(() => received.length >= 2);
    const bodies = received.map((r) => JSON.parse(r.body));
    expect(bodies[0]).toMatchObject({ event: 'kill', step: 'dedupe', folded: 0 });
    // the three later actions: the last one sent at the window's end, the two before it counted
    expect(bodies[1]).toMatchObject({ event: 'restart-suppressed', folded: 2 });
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(1400);
    expect(received[0]!.auth).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    await waitFor(() => log.lines.length >= 2);
    expect(log.lines.map((l) => [l.event, l['status'], l['target']])).toEqual([
      ['notify', 200, `http://127.0.0.1:${recorder.port}/…`],
      ['notify', 200, `http://127.0.0.1:${recorder.port}/…`],
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/s3cret|SECRETPATH|alice/);
  });

  test('answers 500: bounded retries, then one warning without the URL', async () => {
    failing = 0;
    const log = recordingLog();
    const w = new WebhookSender({ url: `http://127.0.0.1:${broken.port}/SECRETPATH`, format: 'slack', everyMs: 0, log, retryDelaysMs: [50, 50] });
    w.offer(actions[0]!);
    await waitFor(() => log.lines.length >= 1);
    expect(failing).toBe(3);
    expect(log.lines[0]).toMatchObject({ event: 'notify', attempts: 3, reason: 'not delivered: HTTP 500' });
    expect(JSON.stringify(log.lines)).not.toContain('SECRETPATH');
  });

  test('never answers: offer() returns at once (actions never wait), each attempt ends at its deadline', async () => {
    hung = 0;
    const log = recordingLog();
    const w = new WebhookSender({ url: `http://127.0.0.1:${hanging.port}/SECRETPATH`, format: 'discord', everyMs: 0, log, timeoutMs: 300, retryDelaysMs: [50] });
    const r = w.offer(actions[0]!);
    expect(r).toBeUndefined(); // synchronous: nothing for a caller to await
    expect(log.lines).toEqual([]);
    await waitFor(() => log.lines.length >= 1);
    expect(hung).toBe(2);
    expect(log.lines[0]).toMatchObject({ event: 'notify', attempts: 2, reason: 'not delivered: no answer in 0.3 s' });
  });

  test('a URL the sender cannot use (settings bypassed): one warning, not silence', async () => {
    const log = recordingLog();
    const w = new WebhookSender({ url: `http://alice:s3cret%zz@127.0.0.1:${recorder.port}/SECRETPATH`, format: 'json', everyMs: 0, log, retryDelaysMs: [] });
    w.offer(actions[0]!);
    await waitFor(() => log.lines.length >= 1, 3_000);
    expect(log.lines[0]).toMatchObject({ event: 'notify', channel: 'webhook', action: 'kill', reason: 'not sent: URIError' });
    expect(JSON.stringify(log.lines)).not.toMatch(/s3cret|SECRETPATH|alice/);
  });

  test('nobody listening: cannot connect, said without the URL', async () => {
    const gone = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const port = gone.port;
    gone.stop(true);
    const log = recordingLog();
    const w = new WebhookSender({ url: `http://127.0.0.1:${port}/SECRETPATH`, format: 'ntfy', everyMs: 0, log, retryDelaysMs: [] });
    w.offer(actions[0]!);
    await waitFor(() => log.lines.length >= 1);
    expect(String(log.lines[0]!.reason)).toStartWith('not delivered: cannot connect');
    expect(JSON.stringify(log.lines)).not.toContain('SECRETPATH');
  });
});

describe('--on-action program', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pidwarden-on-action-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  test('the facts in its environment, one command line a line; pidwarden\'s own settings not passed on', async () => {
    const out = join(dir, 'env.txt');
    const prog = script('record', `env > ${out}.tmp && mv ${out}.tmp ${out}`);
    const log = recordingLog();
    const runner = new OnActionRunner(prog, log, { PATH: '/usr/bin:/bin', PIDWARDEN_MAX_PROCS: '20', KEEP: 'me' });
    runner.run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    const env = readFileSync(out, 'utf8');
    expect(env).toContain('PIDWARDEN_EVENT=kill\n');
    expect(env).toContain('PIDWARDEN_CONTAINER=metamcp\n');
    expect(env).toContain(`PIDWARDEN_CONTAINER_ID=${ID}\n`);
    expect(env).toContain('PIDWARDEN_STEP=dedupe\n');
    expect(env).toContain('PIDWARDEN_PIDS=17 28 29 73\n');
    expect(env).toContain("PIDWARDEN_COMMANDS=npm exec @21st-dev/magic@latest\nsh -c 'magic'\n");
    expect(env).toContain('PIDWARDEN_DRY_RUN=false\n');
    expect(env).toContain('KEEP=me\n');
    expect(env).not.toContain('PIDWARDEN_MAX_PROCS');
    expect(log.lines[0]).toMatchObject({ event: 'notify', channel: 'on-action', exitCode: 0, reason: 'ran' });
  });

  test('a failing program: its exit status and the start of its stderr in the log', async () => {
    const prog = script('fail', `i=0; while [ $i -lt 200 ]; do echo "line $i of a long complaint" >&2; i=$((i+1)); done; exit 3`);
    const log = recordingLog();
    new OnActionRunner(prog, log, {}).run(collect(LADDER)[2]!);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ event: 'notify', exitCode: 3, reason: 'exited with 3' });
    expect(String(log.lines[0]!['stderr'])).toStartWith('line 0 of a long complaint\n');
    expect(String(log.lines[0]!['stderr']).length).toBeLessThanOrEqual(512);
  });

  test('a hanging program is killed at its deadline; the next one still runs', async () => {
    const out = join(dir, 'after.txt');
    const hang = script('hang', 'exec sleep 600');
    const log = recordingLog();
    const runner = new OnActionRunner(hang, log, {}, 300);
    runner.run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ event: 'notify', signal: 'SIGKILL', reason: 'killed after the 0.3 s deadline' });
    const ok = new OnActionRunner(script('after', `echo "$PIDWARDEN_EVENT" > ${out}`), log, {});
    ok.run(collect(LADDER)[3]!);
    await waitFor(() => log.lines.length >= 2);
    expect(readFileSync(out, 'utf8')).toBe('restart-suppressed\n');
  });

  test("at its deadline the hook's children go too: nothing left running, no pipe held open", async () => {
    const childPidFile = join(dir, 'child.pid');
    const hang = script('hang-with-child', `sleep 600 & echo $! > ${childPidFile}; sleep 601`);
    const log = recordingLog();
    new OnActionRunner(hang, log, {}, 300).run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ reason: 'killed after the 0.3 s deadline' });
    const child = Number(readFileSync(childPidFile, 'utf8'));
    const gone = () => {
      try {
        return readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return true;
      }
    };
    await waitFor(() => gone(), 5_000);
    expect(gone()).toBe(true);
  });

  /** Sockets this test process holds open (Bun gives a child's stderr pipe as one end of a socketpair). */
  const openSockets = () =>
    new Set(
      readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((l) => l.startsWith('socket:')),
    );
  const goneOrZombie = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return true;
    }
  };

  test('a hook that exits leaving `sleep 25 &`: it is reported as it ran, the sleep is killed at the deadline, and our end of its stderr is closed', async () => {
    const childPidFile = join(dir, 'bg.pid');
    const prog = script('background', `sleep 25 & echo $! > ${childPidFile}; exit 0`);
    const log = recordingLog();
    const before = openSockets();
    const started = Date.now();
    new OnActionRunner(prog, log, {}, 1500).run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ event: 'notify', exitCode: 0, reason: 'ran' });
    const child = Number(readFileSync(childPidFile, 'utf8'));
    const held = [...openSockets()].filter((s) => !before.has(s));
    await waitFor(() => goneOrZombie(child), 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // not before the deadline
    await waitFor(() => held.every((s) => !openSockets().has(s)), 3_000);
  });

  test('a child that left the group (setsid) keeps running, but our reader of its stderr still ends at the deadline', async () => {
    const childPidFile = join(dir, 'escaped.pid');
    const prog = script('escape', `setsid sleep 25 & echo $! > ${childPidFile}; exit 0`);
    const log = recordingLog();
    const before = openSockets();
    new OnActionRunner(prog, log, {}, 1500).run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    const child = Number(readFileSync(childPidFile, 'utf8'));
    try {
      const held = [...openSockets()].filter((s) => !before.has(s));
      expect(held.length).toBeGreaterThan(0);
      await waitFor(() => held.every((s) => !openSockets().has(s)), 3_000);
    } finally {
      process.kill(child, 'SIGKILL');
    }
  });

  test('a run that ends before the deadline (a stopping monitor) kills what a hook left running instead of leaving it', async () => {
    const childPidFile = join(dir, 'left.pid');
    const prog = script('leave', `sleep 25 & echo $! > ${childPidFile}; exit 0`);
    const log = recordingLog();
    const runner = new OnActionRunner(prog, log, {});
    runner.run(collect(LADDER)[0]!);
    await waitFor(() => log.lines.length >= 1);
    const child = Number(readFileSync(childPidFile, 'utf8'));
    await runner.drain(Date.now() + 200);
    await waitFor(() => goneOrZombie(child), 2_000);
  });

  test('not an executable file: a usage error at start', () => {
    expect(() => checkProgram(join(dir, 'missing'))).toThrow('--on-action');
    expect(() => checkProgram(dir)).toThrow('not an executable file');
  });

  test('a kill step of 1,500 processes: the hook still starts, with the first 20 command lines and the count of the rest', async () => {
    // 1,500 lines of ~100 bytes (~150 KB) in one variable is over Linux's 128 KiB for one environment string.
    const pids = Array.from({ length: 1500 }, (_, i) => 1000 + i);
    const commands = pids.map((p) => `node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic --port ${p} --log-level debug`);
    commands[3] = `node ${'x'.repeat(200_000)}`; // one command line alone over the limit
    const storm = { ...collect(LADDER)[0]!, pids, commands };
    const out = join(dir, 'storm');
    const prog = script('storm', `printf '%s' "$PIDWARDEN_COMMANDS" > ${out}.commands; printf '%s' "$PIDWARDEN_COMMANDS_OMITTED" > ${out}.omitted`);
    const log = recordingLog();
    new OnActionRunner(prog, log, { PATH: '/usr/bin:/bin' }).run(storm);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ event: 'notify', exitCode: 0, reason: 'ran' });
    const lines = readFileSync(`${out}.commands`, 'utf8').split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe(commands[0]!);
    expect(lines[3]!.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(lines[3]!)).toBeLessThanOrEqual(4096);
    expect(readFileSync(`${out}.omitted`, 'utf8')).toBe('1480');
    expect(actionEnv(collect(LADDER)[0]!).PIDWARDEN_COMMANDS_OMITTED).toBe('0');
  });

  test('a kill step of 20,000 processes: the hook still starts, with the first 10,000 PIDs and the count of the rest', async () => {
    // 20,000 PIDs of 7 digits (pid_max's top is 4,194,304) and a space: 160,000 bytes in one
    // variable, over Linux's 131,072 for one environment string (MAX_ARG_STRLEN).
    const pids = Array.from({ length: 20_000 }, (_, i) => 4_000_000 + i);
    const storm = { ...collect(LADDER)[0]!, pids, commands: pids.map((p) => `npm exec figma-mcp --port ${p}`) };
    const out = join(dir, 'pids-storm');
    const prog = script('pids-storm', `printf '%s' "$PIDWARDEN_PIDS" > ${out}.pids; printf '%s' "$PIDWARDEN_PIDS_OMITTED" > ${out}.omitted`);
    const log = recordingLog();
    new OnActionRunner(prog, log, { PATH: '/usr/bin:/bin' }).run(storm);
    await waitFor(() => log.lines.length >= 1);
    expect(log.lines[0]).toMatchObject({ event: 'notify', exitCode: 0, reason: 'ran' });
    expect(readFileSync(`${out}.pids`, 'utf8')).toBe(pids.slice(0, 10_000).join(' '));
    expect(readFileSync(`${out}.omitted`, 'utf8')).toBe('10000');
    expect(actionEnv(collect(LADDER)[0]!).PIDWARDEN_PIDS_OMITTED).toBe('0');
  });

  test('facts never carry a NUL (an environment cannot)', () => {
    const env = actionEnv({ ...collect(LADDER)[0]!, commands: ['npm exec a\0b'], reason: 'x\0y' });
    expect(Object.values(env).join('')).not.toContain('\0');
  });
});
