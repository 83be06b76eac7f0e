// `pidwarden cleanup`: one-shot emergency. Every selected container that is unhealthy goes down the
// ladder until healthy. Exit 0 when all end healthy; 1 when one is still unhealthy (or would be: a
// dry run changes nothing), was skipped for a malformed label, or was busy in another pidwarden;
// 2 when nothing was selected; 3 when the engine stopped answering during a ladder (that
// container's state is then unknown, and the engine is what to fix first); 4 when all ended
// healthy but log lines were lost.
import { observeForLadder, runLadder, type LadderMemory, type LadderOutcome } from '../act/ladder-run.ts';
import { assess } from '../decide/classify.ts';
import { containerPolicy } from '../decide/policy.ts';
import { notActingReason, selectContainers, type ContainerInfo } from '../engine/containers.ts';
import { EngineUnreachableError, EXIT, UsageError } from '../errors.ts';
import { createActionLog, type ActionLog } from '../log/logger.ts';
import { createNotifier, CLEANUP_DRAIN_MS } from '../notify/notifier.ts';
import { StateStore } from '../state/state-file.ts';
import type { CommandContext } from './context.ts';
import { leftOutBecause, selectToAct } from './select.ts';
import { mapBounded } from '../bounded.ts';

export async function runCleanup(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const sel = await selectToAct(ctx.engine, s);
  if (sel.implicit && sel.infos.length === 0) throw new UsageError(await nothingSelected(ctx));
  const actionLog = createActionLog(s.logFile);
  const notifier = createNotifier(s, actionLog);
  const log = notifier?.log ?? actionLog;
  for (const { info, why } of sel.excluded) ctx.io.err(`${info.name}: left alone (${why})\n`);
  for (const info of sel.infos) {
    const reason = notActingReason(info);
    if (!reason) continue;
    log.info({ event: 'skipped', container: info.name, containerId: info.id, reason, dryRun: s.dryRun });
    ctx.io.err(`${info.name}: ${reason}; left alone\n`);
  }
  const memory = ladderMemory(openStateStore(s.stateFile, log, ctx.io.err));
  let engineLost = false;
  const outcomes = await Promise.all(
    sel.infos
      .filter((i) => i.running)
      .map(async (info): Promise<LadderOutcome | string> => {
        const ids = { container: info.name, containerId: info.id };
        const policy = containerPolicy(s, info.labels);
        if (!policy.ok) {
          const reason = `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}; container skipped`;
          log.error({ event: 'error', ...ids, reason, dryRun: s.dryRun });
          return `${info.name}: ${reason}`;
        }
        try {
          const obs = await observeForLadder(ctx.engine, s, info, ctx.timeoutMs);
          for (const p of obs.problems) log.warn({ event: 'error', ...ids, reason: p, dryRun: s.dryRun });
          return await runLadder({ engine: ctx.engine, settings: s, log, memory, execTimeoutMs: ctx.timeoutMs }, obs, policy.policy);
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          log.error({ event: 'error', ...ids, reason, dryRun: s.dryRun });
          if (e instanceof EngineUnreachableError) engineLost = true;
          return `${info.name}: error: ${reason}`;
        }
      }),
  );
  await notifier?.drain(Date.now() + CLEANUP_DRAIN_MS);
  log.flush();
  for (const o of outcomes) ctx.io.err((typeof o === 'string' ? o : summaryLine(o, s.dryRun)) + '\n');
  if (sel.infos.length === 0) ctx.io.err('no containers selected\n');
  if (engineLost) return EXIT.engineUnreachable;
  const allHealthy = outcomes.every((o) => typeof o !== 'string' && o.healthy);
  // Still unhealthy is what cron must hear first; a clean run whose log lost lines says that instead.
  if (!allHealthy) return EXIT.unhealthy;
  return log.lost > 0 ? EXIT.logIncomplete : EXIT.ok;
}

/** The state file, its warnings logged and said on stderr. */
export function openStateStore(path: string, log: ActionLog, err: (text: string) => void): StateStore {
  return new StateStore(path, (message) => {
    log.warn({ event: 'notice', reason: message });
    err(`pidwarden: ${message}\n`);
  });
}

/** The ladder's memory across runs: restart history and ladder locks, in the state file. */
export function ladderMemory(store: StateStore): LadderMemory {
  return {
    restartHistory: (id) => store.restartHistory(id),
    recordRestart: (id, name, nowMs) => store.recordRestart(id, name, nowMs),
    tryLockContainer: (id) => store.tryLockContainer(id),
  };
}

/**
 * The one line for a bare `cleanup` on a host where no container opted in: how to select, and
 * which containers are unhealthy right now (observed as the audit would, with their own labels).
 */
async function nothingSelected(ctx: CommandContext): Promise<string> {
  const s = ctx.settings;
  const running = (await selectContainers(ctx.engine, { containers: [], labels: [] })).filter((i) => i.running && !leftOutBecause(i, s));
  const unhealthy: { info: ContainerInfo; processes: number | null; trees: number }[] = [];
  await mapBounded(running, s.concurrency, async (info) => {
    const policy = containerPolicy(s, info.labels);
    if (!policy.ok) return;
    const obs = await observeForLadder(ctx.engine, s, info, ctx.timeoutMs).catch(() => null);
    if (!obs) return;
    const a = assess(obs.table?.procs ?? null, obs.pids, policy.policy);
    if (a.status === 'critical') unhealthy.push({ info, processes: obs.table ? a.total : null, trees: a.trees.length });
  });
  unhealthy.sort((a, b) => (b.processes ?? 0) - (a.processes ?? 0) || a.info.name.localeCompare(b.info.name));
  const how = (name: string) => `Use --container ${name}, --label KEY[=VALUE] or --all, or label the containers to clean pidwarden.enable=true`;
  if (unhealthy.length === 0) {
    return `nothing selected to act on: no running container carries pidwarden.enable=true, and none is unhealthy now. ${how('NAME')}`;
  }
  const list = unhealthy
    .map((u) => `${u.info.name} (${u.processes ?? '?'} processes, ${u.trees} runaway tree${u.trees === 1 ? '' : 's'})`)
    .join(', ');
  return `nothing selected to act on; unhealthy now: ${list}. ${how(unhealthy[0]!.info.name)}`;
}

function summaryLine(o: LadderOutcome, dryRun: boolean): string {
  if (o.busy) return `${o.container}: busy: ${o.stopReason}; nothing done`;
  const arrow = `${o.before.processes ?? '?'} -> ${o.after.processes ?? '?'} processes, pids ${o.before.pidsCurrent ?? '?'} -> ${o.after.pidsCurrent ?? '?'}`;
  if (o.healthyBefore) return `${o.container}: healthy (${o.before.processes ?? '?'} processes), nothing to do`;
  const what = o.stepsRun.length ? `steps ${o.stepsRun.join(', ')}` : 'no step applied';
  if (o.gone) return `${o.container}: ${what}; stopped or removed during cleanup, left alone`;
  if (o.downAfterRestart?.state === 'unknown') return `${o.container}: ${what}; ${arrow}, restarted; NOT HEALTHY, ${o.downAfterRestart.said}`;
  if (o.downAfterRestart) return `${o.container}: ${what}; ${arrow}, restarted; NOT RUNNING after the restart: ${o.downAfterRestart.said}`;
  const verdict = dryRun ? (o.wouldBeHealthy ? 'would end healthy' : 'would still be unhealthy') : o.healthy ? 'healthy' : 'STILL UNHEALTHY';
  const withheld = o.restartWithheld ? `; ${o.restartWithheld}: ${o.stopReason}` : '';
  return `${o.container}: ${dryRun ? '[dry run] would take ' : ''}${what}; ${arrow}${o.restarted ? ', restarted' : ''}; ${verdict}${withheld}`;
}
