// `pidwarden reap`: one pass of the container-flood rules over the selected containers (same
// selection as cleanup: --container, --label, --all, else the opt-in label; --exclude and
// pidwarden.enable=false always win). Exit 0 when done, 1 when a stop failed or was refused (its
// StopTimeout has no end, or other containers join its PID namespace) or a container was skipped
// for a malformed pidwarden.* label, 2 when nothing was selected (the line names what reap would
// stop), 3 when the engine is unreachable (also when it is lost during the pass).
import { selectContainers } from '../engine/containers.ts';
import { EXIT, UsageError } from '../errors.ts';
import { createActionLog } from '../log/logger.ts';
import { StateStore } from '../state/state-file.ts';
import type { CommandContext } from './context.ts';
import { Reaper, reapSummaryLine, type ReapOutcome } from './reap-pass.ts';
import { leftOutBecause, selectToAct } from './select.ts';

export async function runReap(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const sel = await selectToAct(ctx.engine, s);
  if (sel.implicit && sel.infos.length === 0) throw new UsageError(await nothingSelected(ctx));
  const log = createActionLog(s.logFile);
  for (const { info, why } of sel.excluded) ctx.io.err(`${info.name}: left alone (${why})\n`);
  const store = new StateStore(s.stateFile, (message) => {
    log.warn({ event: 'notice', reason: message });
    ctx.io.err(`pidwarden: ${message}\n`);
  });
  const reaper = new Reaper(ctx.engine, s, store);
  const r = await reaper.pass(sel.infos, log);
  log.flush();
  for (const o of r.outcomes) ctx.io.err(reapSummaryLine(o) + '\n');
  for (const k of r.plan.kept) ctx.io.err(`${k.name}: kept, label pidwarden.reap=false (${k.rule}: ${k.reason})\n`);
  for (const p of r.plan.problems) ctx.io.err(`${p.name}: ${p.reason}\n`);
  for (const f of r.failures) ctx.io.err(`${f.info.name}: error: ${f.reason}\n`);
  ctx.io.err(reapTotalsLine(r.outcomes, r.checked, r.plan.kept.length, s.dryRun) + '\n');
  const notDone = r.outcomes.some((o) => ['failed', 'refused', 'busy'].includes(o.action.result));
  const skipped = r.plan.problems.some((p) => p.skipped) || r.failures.length > 0;
  return notDone || skipped ? EXIT.unhealthy : EXIT.ok;
}

/** The pass's last stderr line: what was stopped (or would be) of how many, and what was not. */
export function reapTotalsLine(outcomes: readonly Pick<ReapOutcome, 'action'>[], checked: number, kept: number, dryRun: boolean): string {
  const count = (...results: string[]) => outcomes.filter((o) => results.includes(o.action.result)).length;
  const failed = count('failed');
  // refused: its stop would have no end, or would kill the processes of containers that join its
  // PID namespace; each one's own line above says which
  const refused = count('refused');
  // busy: a ladder held the container (a cleanup beside this reap); like cleanup's busy, not done
  const busy = count('busy');
  // a refused stop is no "would stop": it is counted as NOT STOPPED
  const verb = dryRun ? `[dry run] would stop ${count('dry-run')}` : `stopped ${count('stopped', 'removed')}`;
  return `reap: ${verb} of ${checked} checked container${checked === 1 ? '' : 's'}${failed ? `, ${failed} FAILED` : ''}${refused ? `, ${refused} NOT STOPPED (refused: why above)` : ''}${busy ? `, ${busy} BUSY (a ladder is running on it)` : ''}${kept ? `, ${kept} kept by label` : ''}`;
}

/** A bare `reap` on a host where no container opted in: how to select, and what reap would stop. */
async function nothingSelected(ctx: CommandContext): Promise<string> {
  const s = ctx.settings;
  const running = (await selectContainers(ctx.engine, { containers: [], labels: [] })).filter((i) => i.running && !leftOutBecause(i, s));
  // Planning only: no samples written, nothing stopped.
  const { plan } = await new Reaper(ctx.engine, s, null).plan(running, false);
  const how = (name: string) => `Use --container ${name}, --label KEY[=VALUE] or --all, or label the containers to reap pidwarden.enable=true`;
  if (plan.stop.length === 0) {
    return `nothing selected to act on: no running container carries pidwarden.enable=true, and reap would stop none now. ${how('NAME')}`;
  }
  const list = plan.stop.map((d) => `${d.name} (${d.rule})`).join(', ');
  return `nothing selected to act on; reap would stop: ${list}. ${how(plan.stop[0]!.name)}`;
}
