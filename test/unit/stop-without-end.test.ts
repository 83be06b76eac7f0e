// A negative Config.StopTimeout (`docker run --stop-timeout -1`) is Docker's "wait for the stop with
// no end": the engine sends the stop signal and never SIGKILLs. Before, pidwarden took it for the
// engine's 10 s default, sent the restart (or reap's stop) without `t` and gave up at its own
// deadline while the engine went on waiting. Now the restart is withheld (restart-skipped, exit 1)
// and reap's stop refused, both saying that --stop-timeout bounds it; with --stop-timeout the call
// is sent with that `t`. The engine and the host are fakes (helpers/fake-host.ts).
import { expect, test } from 'bun:test';
import { reapContainer } from '../../src/act/reap.ts';
import { resolveSettings } from '../../src/cli/settings.ts';
import { runReap } from '../../src/commands/reap.ts';
import { inspectById, stopTimeoutOf } from '../../src/engine/containers.ts';
import { cleanupOn, FAKE_ID, FAKE_NAME, fakeHostPerTest, RESTART_ONLY, type FakeHost, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };

const fakeHost = fakeHostPerTest();

function cleanup(h: FakeHost, extra: Record<string, unknown> = {}): ReturnType<typeof cleanupOn> {
  return cleanupOn(h, { ...RESTART_ONLY, ...extra });
}

const posts = (h: FakeHost) => h.asked.filter((a) => a.startsWith('POST '));

test('StopTimeout -1 is no stop timeout at all, not the engine default of 10 s', async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  const info = (await inspectById(h.engine, FAKE_ID))!;
  expect(stopTimeoutOf(info, undefined)).toEqual({ seconds: null, from: 'container', configured: -1 });
  expect(stopTimeoutOf(info, 5)).toEqual({ seconds: 5, from: 'flag' });
});

test('cleanup does not restart a container whose stop has no end: restart-skipped naming --stop-timeout, exit 1', async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  const { code, stderr, lines } = await cleanup(h);
  expect(posts(h)).toEqual([]);
  const skipped = lines.find((l) => l['event'] === 'restart-skipped');
  expect(skipped).toMatchObject({ level: 'warn', container: FAKE_NAME, step: 'restart' });
  expect(String(skipped!['reason'])).toStartWith('its StopTimeout is -1: the engine would wait for it to stop with no end');
  expect(String(skipped!['reason'])).toContain('--stop-timeout S restarts it within S seconds');
  expect(lines.find((l) => l['event'] === 'restart')).toBeUndefined();
  expect(stderr).toContain('restart-skipped: its StopTimeout is -1');
  expect(code).toBe(1);
});

test('with --stop-timeout the operator bounds it: the restart is sent with that t', async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  h.onRestart = () => {
    h.run({ initPid: 7402, startedAt: '2026-11-21T07:31:02.000000000Z', processes: 1 });
    h.state = { ...h.state, Pid: 7402, StartedAt: '2026-11-21T07:31:02.000000000Z', FinishedAt: '2026-11-21T07:31:01.000000000Z' };
  };
  const { code, lines } = await cleanup(h, { 'stop-timeout': 7 });
  expect(h.restartQueries).toEqual(['t=7']);
  expect(lines.find((l) => l['event'] === 'restart')).toMatchObject({ stopTimeout: 7, stopTimeoutFrom: 'flag' });
  expect(code).toBe(0);
});

test("reap refuses the stop (result refused, no request sent), and says that --stop-timeout bounds it", async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  const info = (await inspectById(h.engine, FAKE_ID))!;
  const r = await reapContainer(h.engine, info, Date.parse(RUN.startedAt), false, { dryRun: false, remove: false });
  expect(r).toMatchObject({ result: 'refused', stopTimeout: { seconds: null, from: 'container' } });
  expect(r.error).toContain('--stop-timeout S stops it within S seconds');
  expect(posts(h)).toEqual([]);
  // a dry run says what a real run would do
  expect((await reapContainer(h.engine, info, Date.parse(RUN.startedAt), false, { dryRun: true, remove: false })).result).toBe('refused');
});

test('reap --dry-run counts a refused stop as not stopped, not as one it would stop', async () => {
  const h = (fakeHost(RUN, { stopTimeout: -1 }));
  // the fake host's /proc: its boot, before the run's StartedAt, dates that start (not this machine's boot)
  const flags = { all: true, 'max-age': '1h', 'dry-run': true, 'log-file': h.hostFlags['log-file'], 'state-file': h.hostFlags['state-file'], 'proc-root': h.hostFlags['proc-root'] };
  let stderr = '';
  const code = await runReap({ settings: resolveSettings('reap', flags, {}, {}), engine: h.engine, io: { out: () => {}, err: (t) => void (stderr += t) }, timeoutMs: 5000 });
  expect(stderr).toContain(`${FAKE_NAME}: NOT STOPPED: its StopTimeout is -1`);
  expect(stderr).toContain('reap: [dry run] would stop 0 of 1 checked container, 1 NOT STOPPED (refused: why above)\n');
  expect(posts(h)).toEqual([]);
  expect(code).toBe(1);
});
