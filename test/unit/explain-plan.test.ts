// The plan `explain` prints and `top` shows on Enter is "what cleanup would do now": the same
// settings (flags, environment, config file), the same selection rules and the same stops as
// cleanup. explainOf is pure, so each case hands it an observation built here.
import { describe, expect, test } from 'bun:test';
import { resolveSettings, type CommandName } from '../../src/cli/settings.ts';
import { explainOf, type ExplainSources } from '../../src/commands/explain.ts';
import type { ContainerInfo } from '../../src/engine/containers.ts';
import type { ContainerObservation } from '../../src/observe/observation.ts';
import type { ContainerRecord } from '../../src/state/state-file.ts';
import type { Layout } from '../../src/types.ts';
import { metamcpProcs, totalTasks } from './helpers/procs.ts';

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
