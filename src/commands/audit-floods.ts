// What audit says about container floods: reap's plan over the audited containers, planning only
// (nothing stopped, no idle sample written). Skipped (null) when no flood rule can apply: no
// --max-age, --idle-for, --max-per-group or --orphan-unlabelled, and no container with an owner
// label; then audit costs no extra inspect.
import { MAX_AGE_LABEL, type ReapPlan } from '../decide/reap.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import { StateStore } from '../state/state-file.ts';
import type { CommandContext } from './context.ts';
import { Reaper } from './reap-pass.ts';

export async function auditFloods(ctx: CommandContext, infos: ContainerInfo[]): Promise<ReapPlan | null> {
  const s = ctx.settings;
  const anyRule = s.maxAgeMs !== undefined || s.idleForMs !== undefined || s.maxPerGroup !== undefined || s.orphanUnlabelled;
  const labelled = infos.some((i) => s.ownerLabels.some((l) => i.labels[l.key] !== undefined) || i.labels[MAX_AGE_LABEL] !== undefined);
  if (!anyRule && !labelled) return null;
  // Idle needs the samples reap and monitor --reap stored; audit only reads them.
  const store = s.idleForMs === undefined ? null : new StateStore(s.stateFile, (message) => ctx.io.err(`pidwarden: ${message}\n`));
  const { plan } = await new Reaper(ctx.engine, s, store).plan(infos, false);
  return plan;
}
