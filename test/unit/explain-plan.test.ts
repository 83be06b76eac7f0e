// The plan `explain` prints and `top` shows on Enter is "what cleanup would do now": the same
// settings (flags, environment, config file), the same selection rules and the same stops as
// cleanup. explainOf is pure, so each case hands it an observation built here.
import { describe, expect, test } from 'bun:test';
import { resolveSettings, type CommandName } from '../../src/cli/settings.ts';
import { explainOf, type ExplainSources } from '../../src/commands/explain.ts';
import { RESTART_CONFIRM_GAP_MS } from '../../src/decide/evidence.ts';
import { explainDocument, explainText } from '../../src/report/explain.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';
import type { ContainerObservation } from '../../src/observe/observation.ts';
import type { ContainerRecord } from '../../src/state/state-file.ts';
import type { Layout } from '../../src/types.ts';
import { metamcpProcs, proc, totalTasks } from './helpers/procs.ts';

const ID = 'a'.repeat(64);
const NOW = 1_800_000_000_000;
const LOCAL: Layout = { local: true, pidMode: '', sharedPidNamespace: false, nsDepth: 2, hostSignals: true };

function info(labels: Record<string, string> = {}): ContainerInfo {
  return {
    id: ID, name: 'metamcp', image: 'metamcp:latest', state: 'running', labels, initPid: 4242, running: true,
    pidMode: '', created: '', startedAt: '', finishedAt: '', user: '',
  };
}

/** The real MetaMCP capture: 34 processes, 9 runaway trees of 4 packages; over max-procs 15. */
function observed(over: Partial<ContainerObservation> = {}): ContainerObservation {
  const procs = metamcpProcs();
  return {
    info: info(),
    layout: LOCAL,
    pids: { current: totalTasks(procs), max: null, source: 'cgroup-v1' },
    cgroupDir: null,
    table: { procs, source: 'ps' },
    stats: null,
    problems: [],
    ...over,
  };
}

function sources(obs: ContainerObservation, record?: ContainerRecord): ExplainSources {
  return { obs, enforceable: true, state: { record, note: null }, nowMs: NOW, uptimeSeconds: null };
}

/** The container named as explain names it; top and cleanup take it as --container. */
const settingsOf = (command: CommandName, env: Record<string, string>, config: Record<string, unknown> = {}) =>
  resolveSettings(command, command === 'explain' ? { container: ['metamcp'] } : {}, env, config);

describe('top plans with the planning policy explain and cleanup resolve', () => {
  const recent: ContainerRecord = { name: 'metamcp', restarts: [NOW - 10 * 60_000] };
  const rows: [string, Record<string, string>, Record<string, unknown>, ContainerRecord | undefined][] = [
    ['PIDWARDEN_PROTECT', { PIDWARDEN_PROTECT: '^npm exec @21st' }, {}, undefined],
    ['PIDWARDEN_KEEP', { PIDWARDEN_KEEP: '2' }, {}, undefined],
    ['PIDWARDEN_STEPS', { PIDWARDEN_STEPS: 'oldest,all' }, {}, undefined],
    ['PIDWARDEN_EMERGENCY', { PIDWARDEN_EMERGENCY: 'true' }, {}, undefined],
    ['PIDWARDEN_RESTART', { PIDWARDEN_STEPS: 'restart', PIDWARDEN_RESTART: 'never' }, {}, undefined],
    ['PIDWARDEN_RESTART_LIMIT', { PIDWARDEN_STEPS: 'restart', PIDWARDEN_RESTART_LIMIT: '1/1h' }, {}, recent],
    ['the config file', {}, { protect: ['^npm exec '], steps: 'dedupe,oldest' }, undefined],
  ];
  for (const [name, env, config, record] of rows) {
    test(`${name}: top's plan is explain's, and not the defaults'`, () => {
      const obs = observed();
      const plan = (command: CommandName, e: Record<string, string>, c: Record<string, unknown>) => explainOf(settingsOf(command, e, c), sources(obs, record)).plan;
      const explains = plan('explain', env, config);
      expect(plan('top', env, config)).toEqual(explains);
      expect(plan('cleanup', env, config)).toEqual(explains);
      expect(plan('explain', {}, {})).not.toEqual(explains);
    });
  }
});

describe('a container cleanup leaves alone: the plan says so and why, with no steps', () => {
  const explained = (obs: ContainerObservation, env: Record<string, string> = {}) => explainOf(settingsOf('explain', env), sources(obs));
  /** Would restart straight away if cleanup acted: only the restart step, rule "always". */
  const restartNow = { PIDWARDEN_STEPS: 'restart', PIDWARDEN_RESTART: 'always' };
  const refusal = 'shared PID namespace (pid=host) and no cgroup view from here (tcp engine): observed from the API only, never acted on';
  const cases: [string, () => ContainerObservation, Record<string, string>, string][] = [
    ['label pidwarden.enable=false', () => observed({ info: info({ 'pidwarden.enable': 'false' }) }), {}, 'label pidwarden.enable=false'],
    ['label pidwarden.enable=false, restart rule always', () => observed({ info: info({ 'pidwarden.enable': 'false' }) }), restartNow, 'label pidwarden.enable=false'],
    ['PIDWARDEN_EXCLUDE names it', () => observed(), { PIDWARDEN_EXCLUDE: 'metamcp' }, '--exclude metamcp'],
    [
      'the layout refuses to act (a shared PID namespace on a remote engine), at its pids limit',
      () => observed({ layout: { ...LOCAL, local: false, sharedPidNamespace: true, hostSignals: false, refusal }, table: null, pids: { current: 98, max: 100, source: 'api' } }),
      restartNow,
      refusal,
    ],
  ];
  for (const [name, obs, env, why] of cases) {
    test(name, () => {
      const input = explained(obs(), env);
      expect(input.plan.steps).toEqual([]);
      expect(input.plan.leftAlone).toBe(why);
      const text = explainText(input, { width: 400, colour: false });
      const plan = text.slice(text.indexOf('plan: '));
      expect(plan).toContain(`cleanup leaves this container alone: ${why}`);
      expect(plan).not.toMatch(/kill |restart the container|then: /);
      const doc = explainDocument(input);
      expect(doc.plan.steps).toEqual([]);
      expect(doc.plan.leftAlone).toBe(why);
    });
  }

  test('a container cleanup acts on has no such line', () => {
    const input = explained(observed());
    expect(input.plan.leftAlone).toBeNull();
    expect(input.plan.steps.length).toBeGreaterThan(0);
    expect(explainText(input, { width: 400, colour: false })).not.toContain('leaves this container alone');
  });
});

describe('a restart for zombies of the main process', () => {
  test('says that cleanup confirms them with a second look, not that it has seen them twice', () => {
    const procs = [proc(1, 0, 'node dist/index.js'), proc(2, 1, 'worker'), ...Array.from({ length: 20 }, (_, i) => proc(100 + i, 1, '[sh]', { state: 'Z', startTicks: 5000 + i }))];
    const obs = observed({ table: { procs, source: 'ps' }, pids: { current: totalTasks(procs), max: null, source: 'cgroup-v1' } });
    const { plan } = explainOf(settingsOf('explain', {}), sources(obs));
    const restart = plan.steps.find((s) => s.kind === 'restart');
    expect(restart?.kind === 'restart' && restart.reason).toContain(`a second look, at least ${RESTART_CONFIRM_GAP_MS / 1000} s after its first`);
    expect(restart?.kind === 'restart' && restart.reason).not.toContain('the same ones at the start and now');
  });
});

test('a state file explain could not use is a note in its report, not a silent empty history', () => {
  const note = 'state file /var/lib/pidwarden/state.json: corrupt or of another version, left as it is; no restart history or growth samples from it';
  const input = explainOf(settingsOf('explain', {}), { ...sources(observed()), state: { record: undefined, note } });
  expect(input.insight.notes).toContain(note);
  expect(explainText(input, { width: 400, colour: false })).toContain(`note: ${note}`);
});

describe('a restart cleanup would withhold (others share the PID namespace): the plan ends where cleanup does', () => {
  const restartNow = { PIDWARDEN_STEPS: 'restart', PIDWARDEN_RESTART: 'always' };
  const withheld = 'container sidecar shares its PID namespace: a restart would kill their processes too';
  test('no restart step; a restart-skipped stop naming the joiner', () => {
    const input = explainOf(settingsOf('explain', restartNow), { ...sources(observed()), restartWithheld: withheld });
    expect(input.plan.steps.some((st) => st.kind === 'restart')).toBe(false);
    expect(input.plan.stop).toMatchObject({ event: 'restart-skipped', reason: withheld });
    const text = explainText(input, { width: 400, colour: false });
    expect(text.slice(text.indexOf('plan: '))).toContain(withheld);
  });
  test('with nobody joining, the same settings plan the restart', () => {
    const input = explainOf(settingsOf('explain', restartNow), { ...sources(observed()), restartWithheld: null });
    expect(input.plan.steps.some((st) => st.kind === 'restart')).toBe(true);
  });
});

describe('a malformed label on a container cleanup leaves alone: explained, not a usage error', () => {
  // cleanup sets these aside (select.ts) before it reads their labels: "left alone", exit 0
  const cases: [string, Record<string, string>, Record<string, string>, string, string][] = [
    ['pidwarden.enable=no under --exclude', { 'pidwarden.enable': 'no' }, { PIDWARDEN_EXCLUDE: 'metamcp' }, '--exclude metamcp', 'label pidwarden.enable="no": expected true or false'],
    [
      'pidwarden.max-procs=lots beside pidwarden.enable=false',
      { 'pidwarden.enable': 'false', 'pidwarden.max-procs': 'lots' },
      {},
      'label pidwarden.enable=false',
      'label pidwarden.max-procs="lots": expected a whole number',
    ],
  ];
  for (const [name, labels, env, why, label] of cases) {
    test(name, () => {
      const input = explainOf(settingsOf('explain', env), sources(observed({ info: info(labels) })));
      expect(input.plan.leftAlone).toBe(why);
      expect(input.plan.steps).toEqual([]);
      expect(input.problems).toEqual([`${label}; global values used: cleanup leaves this container alone (${why})`]);
      expect(explainText(input, { width: 400, colour: false })).toContain(`  ! ${label}`);
    });
  }

  test('on a container cleanup would act on, it stays an error naming the label', () => {
    expect(() => explainOf(settingsOf('explain', {}), sources(observed({ info: info({ 'pidwarden.enable': 'no' }) })))).toThrow(
      'metamcp: label pidwarden.enable="no": expected true or false',
    );
  });
});

describe('wide characters: lines measured in terminal columns', () => {
  // A CJK character or an emoji takes two columns: a command line of them, cut at 80 UTF-16 units,
  // was up to 160 columns wide, and the terminal wrapped it (in top, the screen moved down a line).
  const wide = `node /app/${'東京'.repeat(40)}.js --emoji=${'🚀'.repeat(20)}`;
  test('explain: no line wider than the width given', () => {
    const procs = [...metamcpProcs(), proc(500, 1, wide)];
    const obs = observed({ table: { procs, source: 'ps' }, pids: { current: totalTasks(procs), max: null, source: 'cgroup-v1' } });
    const text = explainText(explainOf(settingsOf('explain', {}), sources(obs)), { width: 80, colour: false });
    const lines = text.split('\n');
    expect(lines.some((l) => l.includes('東京東京'))).toBe(true);
    for (const l of lines) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(80);
  });
});

describe('a deep chain of processes', () => {
  // A command that runs itself (a wrapper first on its own PATH, a script calling itself) makes a
  // chain, each process waiting for its child, as deep as the pids limit lets it: with none, tens
  // of thousands. Walked by recursion, the tree overflowed the stack from ~10,000 levels (text) and
  // ~30,000 (JSON): explain failed on exactly the runaway it is there to explain.
  test('30,000 levels: explain lays out the tree, as text and as JSON', () => {
    const depth = 30_000;
    const procs = [proc(1, 0, 'node /app/main.js'), ...Array.from({ length: depth - 1 }, (_, i) => proc(i + 2, i + 1, 'npm exec wrapper'))];
    const obs = observed({ table: { procs, source: 'ps' }, pids: { current: depth, max: null, source: 'cgroup-v2' } });
    const input = explainOf(settingsOf('explain', {}), sources(obs));
    const text = explainText(input, { width: 80, colour: false });
    expect(text).toContain('node /app/main.js');
    expect(explainDocument(input).processes.tree).toHaveLength(depth);
  }, 30_000); // ~1 s here; room for a busy machine
});
