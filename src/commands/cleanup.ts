// `pidwarden cleanup`: one-shot emergency. Every selected container that is unhealthy goes down the
// ladder until healthy. Exit 0 when all end healthy; 1 when one is still unhealthy (or would be: a
// dry run changes nothing, so an unhealthy container stays unhealthy).
import { observeForLadder, runLadder, type LadderOutcome, type RestartGate } from '../act/ladder-run.ts';
import { notActingReason, selectContainers } from '../engine/containers.ts';
import { EXIT } from '../errors.ts';
import { createActionLog } from '../log/logger.ts';
import type { CommandContext } from './context.ts';

/** One run of cleanup may restart each container once; the monitor keeps a real history. */
const oneRestartEach: () => RestartGate = () => {
  const done = new Set<string>();
  return {
    check: (id) => (done.has(id) ? { allowed: false, recent: 1 } : { allowed: true, recent: 0 }),
    record: (id) => void done.add(id),
  };
};

export async function runCleanup(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const log = createActionLog(s.logFile);
  const infos = await selectContainers(ctx.engine, { containers: s.containers, labels: s.labels });
  const gate = oneRestartEach();
  for (const info of infos) {
    const reason = notActingReason(info);
    if (!reason) continue;
    log.info({ event: 'skipped', container: info.name, containerId: info.id, reason, dryRun: s.dryRun });
    ctx.io.err(`${info.name}: ${reason}; left alone\n`);
  }
  const outcomes = await Promise.all(
    infos
      .filter((i) => i.running)
      .map(async (info): Promise<LadderOutcome | null> => {
        try {
          const obs = await observeForLadder(ctx.engine, s, info, ctx.timeoutMs);
          for (const p of obs.problems) log.warn({ event: 'error', container: info.name, containerId: info.id, reason: p, dryRun: s.dryRun });
          return await runLadder({ engine: ctx.engine, settings: s, log, restartGate: gate, execTimeoutMs: ctx.timeoutMs }, obs);
        } catch (e) {
          log.error({ event: 'error', container: info.name, containerId: info.id, reason: e instanceof Error ? e.message : String(e), dryRun: s.dryRun });
          return null;
        }
      }),
  );
  log.flush();
  for (const o of outcomes) if (o) ctx.io.err(summaryLine(o, s.dryRun) + '\n');
  if (infos.length === 0) ctx.io.err('no containers selected\n');
  const allHealthy = outcomes.every((o) => o !== null && o.healthy);
  // Still unhealthy is what cron must hear first; a clean run whose log lost lines says that instead.
  if (!allHealthy) return EXIT.unhealthy;
  return log.lost > 0 ? EXIT.logIncomplete : EXIT.ok;
}

function summaryLine(o: LadderOutcome, dryRun: boolean): string {
  const arrow = `${o.before.processes ?? '?'} -> ${o.after.processes ?? '?'} processes, pids ${o.before.pidsCurrent ?? '?'} -> ${o.after.pidsCurrent ?? '?'}`;
  if (o.healthyBefore) return `${o.container}: healthy (${o.before.processes ?? '?'} processes), nothing to do`;
  const what = o.stepsRun.length ? `steps ${o.stepsRun.join(', ')}` : 'no step applied';
  if (o.gone) return `${o.container}: ${what}; stopped or removed during cleanup, left alone`;
  const verdict = dryRun ? (o.wouldBeHealthy ? 'would end healthy' : 'would still be unhealthy') : o.healthy ? 'healthy' : 'STILL UNHEALTHY';
  return `${o.container}: ${dryRun ? '[dry run] would take ' : ''}${what}; ${arrow}${o.restarted ? ', restarted' : ''}; ${verdict}`;
}
