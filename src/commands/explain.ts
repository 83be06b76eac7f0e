// `pidwarden explain CONTAINER`: one container for a person at a terminal. It observes exactly as
// the audit does (one `ps`, or the host's /proc), judges with the container's own policy, and
// computes the plan with the same decision cleanup uses (decide/plan.ts: a dry run). It reads the
// state file for growth and the restart history, without a lock, and writes nothing anywhere: no
// state directory, no lock file, and a file it cannot use is not moved aside.
import { readFileSync } from 'node:fs';
import { assess } from '../decide/classify.ts';
import { insightOfObservation, withWarnings } from '../decide/insight.ts';
import { evidenceOf } from '../decide/evidence.ts';
import { planLadder } from '../decide/plan.ts';
import { containerPolicy, globalPolicy, type ContainerPolicy } from '../decide/policy.ts';
import { selectContainers, stopTimeoutOf, stopWithoutEndWhy, type ContainerInfo } from '../engine/containers.ts';
import { engineEnforcesPidsLimits } from '../engine/info.ts';
import { EXIT, UsageError } from '../errors.ts';
import { observeContainer } from '../observe/container.ts';
import type { ContainerObservation } from '../observe/observation.ts';
import { explainDocument, explainText, type ExplainInput } from '../report/explain.ts';
import { readStateWithoutChanging, type ContainerRecord } from '../state/state-file.ts';
import type { Settings } from '../cli/settings.ts';
import type { CommandContext } from './context.ts';
import { leftOutBecause } from './select.ts';
import { kernelViewOf, restartHitsJoiners } from '../act/restart-joiners.ts';

/** Not a terminal: 80 columns, the width every log viewer and mail client shows whole. */
export const DEFAULT_WIDTH = 80;

export async function runExplain(ctx: CommandContext, tty: { isTTY: boolean; columns?: number }): Promise<number> {
  const s = ctx.settings;
  // Exactly the one container named: an empty list would mean "every container" to selectContainers.
  if (s.containers.length !== 1) throw new UsageError('explain: name one container: pidwarden explain NAME|ID');
  const [info] = await selectContainers(ctx.engine, { containers: s.containers, labels: [] });
  if (!info) throw new UsageError(`no such container: ${s.containers[0]}`);
  if (!info.running) throw new UsageError(`${info.name} is not running (${info.state}): nothing to explain`);
  const input = await explainInput(ctx, info);
  if (s.json) ctx.io.out(JSON.stringify(explainDocument(input), null, 2) + '\n');
  else {
    const width = tty.isTTY && tty.columns && tty.columns > 0 ? tty.columns : DEFAULT_WIDTH;
    ctx.io.out(explainText(input, { width, colour: tty.isTTY && !process.env['NO_COLOR'] }));
  }
  return input.assessment.status === 'critical' ? EXIT.unhealthy : EXIT.ok;
}

/** Everything explain shows of one running container: also what `top` shows on Enter. */
export async function explainInput(ctx: CommandContext, info: ContainerInfo): Promise<ExplainInput> {
  const s = ctx.settings;
  policyOf(s, info); // a malformed label is said before a ps is run in the container
  const [obs, enforceable] = await Promise.all([
    observeContainer(ctx.engine, info, {
      procRoot: s.procRoot,
      cgroupRoot: s.cgroupRoot,
      processes: true,
      stats: false,
      execTimeoutMs: ctx.timeoutMs,
      preferHost: s.procSource === 'host',
    }),
    engineEnforcesPidsLimits(ctx.engine),
  ]);
  const state = readContainerState(s.stateFile, info.id);
  // what cleanup asks right before a restart, asked here so that the plan ends where cleanup would
  const stop = stopTimeoutOf(info, s.stopTimeoutSeconds);
  const restartWithheld = stop.seconds === null ? stopWithoutEndWhy(stop, 'restart') : await restartHitsJoiners(ctx.engine, info, kernelViewOf(obs.layout, s.procRoot));
  return explainOf(s, { obs, enforceable, state, nowMs: Date.now(), uptimeSeconds: ctx.engine.local ? uptime(s.procRoot) : null, restartWithheld });
}

/** What explain read of one container: the observation, the engine, the state file, the clock. */
export interface ExplainSources {
  obs: ContainerObservation;
  enforceable: boolean | null;
  state: ContainerState;
  nowMs: number;
  uptimeSeconds: number | null;
  /** Why cleanup would withhold a restart (its stop has no end, others share the PID namespace), or null. */
  restartWithheld?: string | null;
}

/** The container's record in the state file, and a note when the file could not be used. */
export interface ContainerState {
  record: ContainerRecord | undefined;
  note: string | null;
}

/** Read only: explain and top create, lock and rename nothing (state-file.ts readStateWithoutChanging). */
export function readContainerState(path: string, id: string): ContainerState {
  const { doc, problem } = readStateWithoutChanging(path);
  const note = problem === null ? null : `state file ${path}: ${problem}, left as it is; no restart history or growth samples from it`;
  return { record: doc.containers[id], note };
}

/** Pure: the report of one observed container under these settings, with the plan cleanup would follow. */
export function explainOf(s: Settings, src: ExplainSources): ExplainInput {
  const { obs, state, nowMs } = src;
  const info = obs.info;
  const leftAlone = leftOutBecause(info, s);
  const { policy, labelProblem } = policyOf(s, info);
  const problems = labelProblem === null ? obs.problems : [...obs.problems, labelProblem];
  const procs = obs.table?.procs ?? null;
  const assessed = assess(procs, obs.pids, policy);
  const record = state.record;
  const observed = insightOfObservation(obs, assessed, { maxProcs: policy.maxProcs, enforceable: src.enforceable, record, nowMs, warnWithinS: s.warnWithinSeconds });
  const insight = state.note === null ? observed : { ...observed, notes: [...observed.notes, state.note] };
  const assessment = withWarnings(assessed, insight);
  const plan = planLadder({
    // What cleanup checks before its first decision: the selection's last word, then the layout.
    leftAlone: leftAlone ?? obs.layout.refusal ?? null,
    restartWithheld: src.restartWithheld ?? null,
    procs,
    pids: obs.pids,
    policy,
    emergency: s.emergency,
    evidence: evidenceOf(procs, obs.pids, policy),
    restartHistory: record?.restarts ?? [],
    nowMs,
  });
  return {
    container: { id: info.id, name: info.name, image: info.image, state: info.state },
    assessment,
    insight,
    plan,
    procs,
    tasks: obs.pids.current,
    source: `${obs.table?.source ?? 'none'}/${obs.pids.source}`,
    uptimeSeconds: src.uptimeSeconds,
    problems,
  };
}

/**
 * The policy to judge with. A malformed label fails explain only where cleanup would report it: a
 * container cleanup leaves alone (--exclude, pidwarden.enable=false) is set aside by select.ts
 * before its labels are read, so cleanup says "left alone" and exits 0 for it. Here such a
 * container is judged by the global values, as audit does, and the label is named as a problem.
 */
function policyOf(s: Settings, info: ContainerInfo): { policy: ContainerPolicy; labelProblem: string | null } {
  const result = containerPolicy(s, info.labels);
  if (result.ok) return { policy: result.policy, labelProblem: null };
  const label = `label ${result.label}=${JSON.stringify(result.value)}: ${result.error}`;
  const leftAlone = leftOutBecause(info, s);
  if (leftAlone === null) throw new UsageError(`${info.name}: ${label}`);
  return { policy: globalPolicy(s), labelProblem: `${label}; global values used: cleanup leaves this container alone (${leftAlone})` };
}

/** Seconds since boot, from /proc/uptime ("350735.47 1234.56"). */
function uptime(procRoot: string): number | null {
  try {
    const first = readFileSync(`${procRoot}/uptime`, 'utf8').split(/\s+/)[0];
    const n = Number(first);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
