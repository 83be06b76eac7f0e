import { describe, expect, test } from 'bun:test';
import { resolveSettings, type Settings } from '../../src/cli/settings.ts';
import { containerPolicy, describePolicy } from '../../src/decide/policy.ts';
import { enablement } from '../../src/decide/enable-label.ts';

const settings = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}, config: Record<string, unknown> = {}): Settings =>
  resolveSettings('cleanup', flags, env, config);

function ok(s: Settings, labels: Record<string, string>) {
  const r = containerPolicy(s, labels);
  if (!r.ok) throw new Error(`unexpected error: ${r.label}: ${r.error}`);
  return r;
}

describe('labels override the global settings for their container alone', () => {
  test('postgres with pidwarden.max-procs=120: 120 from the label, the rest from defaults', () => {
    const r = ok(settings(), { 'pidwarden.max-procs': '120' });
    expect(r.policy.maxProcs).toBe(120);
    expect(r.from.maxProcs).toBe('label');
    expect(r.from.pidsRatio).toBe('default');
  });

  test('a label wins over flag, env and config for its container', () => {
    const s = settings({ 'max-procs': '20', keep: '3' }, { PIDWARDEN_PIDS_RATIO: '0.5' }, { match: ['^npx '] });
    const r = ok(s, { 'pidwarden.max-procs': '40', 'pidwarden.pids-ratio': '0.3', 'pidwarden.match': '^uvx ', 'pidwarden.keep': '5' });
    expect([r.policy.maxProcs, r.policy.pidsRatio, r.policy.keep, r.policy.match.map(String), r.policy.matchAlso]).toEqual([40, 0.3, 5, ['/^uvx /u'], undefined]);
    expect(ok(s, {}).from).toMatchObject({ maxProcs: 'flag', keep: 'flag', pidsRatio: 'env', match: 'config', protect: 'default' });
  });

  test('protect, restart-limit and restart from labels', () => {
    const r = ok(settings(), { 'pidwarden.protect': 'keep-me', 'pidwarden.restart-limit': '1/1d', 'pidwarden.restart': 'always' });
    expect(r.policy.protect.map(String)).toEqual(['/keep-me/u']);
    expect(r.policy.restartLimit).toEqual({ count: 1, windowMs: 86_400_000 });
    expect(r.policy.restart).toBe('always');
  });
});

describe('the command line only narrows what a label allows', () => {
  test('--restart-limit on the command line caps a label limit: fewer restarts, longer window', () => {
    const loose = ok(settings({ 'restart-limit': '1/1d' }), { 'pidwarden.restart-limit': '100/1s' });
    expect(loose.policy.restartLimit).toEqual({ count: 1, windowMs: 86_400_000 });
    expect(loose.from.restartLimit).toBe('flag');
    const mixed = ok(settings({ 'restart-limit': '5/1h' }), { 'pidwarden.restart-limit': '2/10m' });
    expect(mixed.policy.restartLimit).toEqual({ count: 2, windowMs: 3_600_000 });
    const stricter = ok(settings({ 'restart-limit': '5/1h' }), { 'pidwarden.restart-limit': '1/1d' });
    expect(stricter.policy.restartLimit).toEqual({ count: 1, windowMs: 86_400_000 });
    expect(stricter.from.restartLimit).toBe('label');
    const fromEnv = ok(settings({}, { PIDWARDEN_RESTART_LIMIT: '1/1d' }), { 'pidwarden.restart-limit': '100/1s' });
    expect(fromEnv.policy.restartLimit).toEqual({ count: 100, windowMs: 1000 });
  });

  test('a label protect adds to --protect and never removes it (flag or env)', () => {
    const byFlag = ok(settings({ protect: '^postgres' }), { 'pidwarden.protect': 'keep-me' });
    expect(byFlag.policy.protect.map(String)).toEqual(['/^postgres/u', '/keep-me/u']);
    const byEnv = ok(settings({}, { PIDWARDEN_PROTECT: '^postgres' }), { 'pidwarden.protect': 'keep-me' });
    expect(byEnv.policy.protect.map(String)).toEqual(['/^postgres/u', '/keep-me/u']);
  });

  test('--keep, --max-procs and --pids-ratio on the command line raise a label\'s lower value (fewer victims, later); env and config do not', () => {
    const labels = { 'pidwarden.keep': '0', 'pidwarden.max-procs': '5', 'pidwarden.pids-ratio': '0.2' };
    const r = ok(settings({ keep: '3', 'max-procs': '20', 'pids-ratio': '0.9' }), labels);
    expect([r.policy.keep, r.policy.maxProcs, r.policy.pidsRatio]).toEqual([3, 20, 0.9]);
    expect(r.from).toMatchObject({ keep: 'flag', maxProcs: 'flag', pidsRatio: 'flag' });
    const byEnv = ok(settings({}, { PIDWARDEN_KEEP: '3', PIDWARDEN_MAX_PROCS: '20' }), labels);
    expect([byEnv.policy.keep, byEnv.policy.maxProcs]).toEqual([0, 5]);
    expect(byEnv.from).toMatchObject({ keep: 'label', maxProcs: 'label' });
  });

  test('--match on the command line narrows a label\'s pattern: a runaway process must match both', () => {
    const r = ok(settings({ match: '^npm exec ' }), { 'pidwarden.match': '^(npm exec|python) ' });
    expect(r.policy.match.map(String)).toEqual(['/^(npm exec|python) /u']);
    expect(r.policy.matchAlso?.map(String)).toEqual(['/^npm exec /u']);
    expect(describePolicy(r).match).toEqual({ value: { anyOf: ['^(npm exec|python) '], andAnyOf: ['^npm exec '] }, from: 'label' });
    expect(ok(settings({}, { PIDWARDEN_MATCH: '^npm exec ' }), { 'pidwarden.match': '^python ' }).policy.matchAlso).toBeUndefined();
  });

  test('--steps dedupe on the command line intersects the label steps', () => {
    const r = ok(settings({ steps: 'dedupe' }), { 'pidwarden.steps': 'dedupe,oldest,restart' });
    expect(r.policy.steps).toEqual(['dedupe']);
    expect(r.from.steps).toBe('flag');
  });

  test('--steps from env or config does not narrow a label (only the operator at the command line does)', () => {
    const r = ok(settings({}, { PIDWARDEN_STEPS: 'dedupe' }), { 'pidwarden.steps': 'dedupe,oldest' });
    expect(r.policy.steps).toEqual(['dedupe', 'oldest']);
    expect(r.from.steps).toBe('label');
  });

  test('a label can narrow the steps the flags allow', () => {
    expect(ok(settings({ steps: 'dedupe,oldest,all,restart' }), { 'pidwarden.steps': 'dedupe' }).policy.steps).toEqual(['dedupe']);
  });

  test('--restart never beats a label always; --restart always never widens a label never', () => {
    expect(ok(settings({ restart: 'never' }), { 'pidwarden.restart': 'always' }).policy.restart).toBe('never');
    expect(ok(settings({ restart: 'always' }), { 'pidwarden.restart': 'never' }).policy.restart).toBe('never');
    expect(ok(settings({ restart: 'always' }), { 'pidwarden.restart': 'evidence' }).policy.restart).toBe('evidence');
    expect(ok(settings({ restart: 'evidence' }), { 'pidwarden.restart': 'always' }).policy.restart).toBe('evidence');
  });
});

const CATCH_ALL = 'matches every command line (it matches each of "postgres: checkpointer", "nginx: worker process", "/bin/sh", "sleep 1000", "top": a pattern such as . or \\S)';

describe('a malformed label is an error that names the label and the value, never a silent fallback', () => {
  const rows: [string, string, string][] = [
    ['pidwarden.max-procs', 'lots', 'expected a whole number'],
    ['pidwarden.max-procs', '0', 'expected a whole number of at least 1'],
    ['pidwarden.pids-ratio', '1.5', 'expected a number in (0, 1]'],
    ['pidwarden.keep', '-1', 'expected a whole number'],
    ['pidwarden.steps', 'dedupe,nuke', 'unknown step "nuke" (use dedupe,oldest,all,restart)'],
    ['pidwarden.match', '(', 'not a valid regular expression'],
    // compose's `pidwarden.match=${MCP_MATCH}` with the variable unset: every process would be a runaway
    ['pidwarden.match', '', 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)'],
    ['pidwarden.match', '.*', 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)'],
    ['pidwarden.match', '^npx |', 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)'],
    // no empty match, but every line of a mixed host: postgres and nginx workers would be runaway trees
    ...['.', '\\S', '[a-z]', '\\w+'].map((value) => ['pidwarden.match', value, CATCH_ALL] as [string, string, string]),
    ['pidwarden.restart', 'sometimes', 'expected never, evidence, always'],
    ['pidwarden.restart-limit', 'often', 'expected N/WINDOW such as 3/1h (N at most 100, WINDOW at most 7d)'],
    ['pidwarden.restart-limit', '3/30d', 'expected N/WINDOW such as 3/1h (N at most 100, WINDOW at most 7d)'],
  ];
  for (const [label, value, error] of rows) {
    test(`${label}=${value}`, () => {
      expect(containerPolicy(settings(), { [label]: value })).toEqual({ ok: false, label, value, error });
    });
  }
});

describe('pidwarden.enable', () => {
  test('exactly true or false, absent, and anything else is malformed (not a silent no)', () => {
    expect(enablement({ 'pidwarden.enable': 'true' })).toBe('enabled');
    expect(enablement({ 'pidwarden.enable': 'false' })).toBe('disabled');
    expect(enablement({})).toBe('unset');
    for (const value of ['yes', 'False', 'TRUE', ' true']) expect(enablement({ 'pidwarden.enable': value })).toEqual({ malformed: value });
  });

  test('a malformed value makes the container an error naming the label and the value: never treated as enabled', () => {
    for (const value of ['no', '0', 'off', 'TRUE', 'False', '']) {
      expect(containerPolicy(settings(), { 'pidwarden.enable': value })).toEqual({ ok: false, label: 'pidwarden.enable', value, error: 'expected true or false' });
    }
    expect(ok(settings(), { 'pidwarden.enable': 'true' }).policy.maxProcs).toBe(15);
    expect(ok(settings(), { 'pidwarden.enable': 'false' }).policy.maxProcs).toBe(15);
  });
});

test('describePolicy: each value beside its origin, regexes as their source', () => {
  const d = describePolicy(ok(settings({ 'max-procs': '20' }), { 'pidwarden.protect': 'db' }));
  expect(d.maxProcs).toEqual({ value: 20, from: 'flag' });
  expect(d.protect).toEqual({ value: ['db'], from: 'label' });
  expect(d.restartLimit).toEqual({ value: '3/1h', from: 'default' });
  expect(d.restart).toEqual({ value: 'evidence', from: 'default' });
});
