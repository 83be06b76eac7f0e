// `pidwarden audit`: observe every running container once (less --exclude) and report, each with
// its own effective policy. Exit 1 when any is critical.
import { assess } from '../decide/classify.ts';
import { containerPolicy, describePolicy, globalPolicy } from '../decide/policy.ts';
import { selectContainers } from '../engine/containers.ts';
import { observeContainer } from '../observe/container.ts';
import { readHost } from '../observe/host.ts';
import { auditDocument, type AuditedContainer } from '../report/json.ts';
import { promText, promTextFailed, writeFileAtomic } from '../report/prom.ts';
import { isUnreachable } from '../engine/client.ts';
import { EngineUnreachableError } from '../errors.ts';
import { auditTable } from '../report/table.ts';
import { EXEC_TIMEOUT_MS, type CommandContext } from './context.ts';
import { EXIT } from '../errors.ts';
import { UsageError } from '../errors.ts';
import { excludedBy } from './select.ts';

export async function runAudit(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const started = new Date();
  let wrote = false;
  try {
    return await audit(ctx, started, () => (wrote = true));
  } catch (e) {
    // A failed audit must not leave the last good run's numbers looking current: pidwarden_up 0.
    if (s.promFile && !wrote) {
      const reachable = !(e instanceof EngineUnreachableError || isUnreachable(e));
      await writeFileAtomic(s.promFile, promTextFailed(started.getTime(), reachable)).catch(() => {});
    }
    throw e;
  }
}

async function audit(ctx: CommandContext, started: Date, attemptedPromFile: () => void): Promise<number> {
  const s = ctx.settings;
  const infos = (await selectContainers(ctx.engine, { containers: s.containers, labels: s.labels })).filter((i) => !excludedBy(i, s.exclude));
  const [host, observations] = await Promise.all([
    readHost(),
    Promise.all(
      infos.map((info) =>
        observeContainer(ctx.engine, info, {
          procRoot: s.procRoot,
          cgroupRoot: s.cgroupRoot,
          processes: true,
          stats: true,
          execTimeoutMs: EXEC_TIMEOUT_MS,
          preferHost: s.procSource === 'host',
        }),
      ),
    ),
  ]);
  const rows: AuditedContainer[] = observations.map((obs) => {
    const policy = containerPolicy(s, obs.info.labels);
    if (!policy.ok) {
      // Reported, never silently replaced: the figures below use the global thresholds only so
      // that the row still says something; cleanup and monitor skip this container.
      const error = `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}; cleanup and monitor skip this container`;
      const a = assess(obs.table?.procs ?? null, obs.pids, globalPolicy(s));
      return {
        obs: { ...obs, problems: [...obs.problems, error] },
        assessment: { ...a, status: a.status === 'ok' ? 'warn' : a.status },
        policy: { error },
      };
    }
    return { obs, assessment: assess(obs.table?.procs ?? null, obs.pids, policy.policy), policy: describePolicy(policy) };
  });

  if (s.json) ctx.io.out(JSON.stringify(auditDocument(started, host, rows), null, 2) + '\n');
  else ctx.io.out(auditTable(rows));

  if (s.promFile) {
    attemptedPromFile();
    try {
      await writeFileAtomic(s.promFile, promText(rows, started.getTime()));
    } catch (e) {
      throw new UsageError(`--prom-file ${s.promFile}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return rows.some((r) => r.assessment.status === 'critical') ? EXIT.unhealthy : EXIT.ok;
}
