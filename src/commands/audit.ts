// `pidwarden audit`: observe every selected container once and report. Exit 1 when any is critical.
import { assess, type Assessment } from '../decide/classify.ts';
import { notActingReason, selectContainers, type ContainerInfo } from '../engine/containers.ts';
import { observeContainer } from '../observe/container.ts';
import { readHost } from '../observe/host.ts';
import { auditDocument, type AuditedContainer } from '../report/json.ts';
import { promText, writeFileAtomic } from '../report/prom.ts';
import { auditTable } from '../report/table.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from '../errors.ts';
import { UsageError } from '../errors.ts';

export async function runAudit(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const started = new Date();
  const infos = await selectContainers(ctx.engine, { containers: s.containers, labels: s.labels });
  const [host, observations] = await Promise.all([
    readHost(),
    Promise.all(
      infos.map((info) =>
        observeContainer(ctx.engine, info, {
          procRoot: s.procRoot,
          cgroupRoot: s.cgroupRoot,
          processes: true,
          stats: true,
          execTimeoutMs: ctx.timeoutMs,
          preferHost: s.procSource === 'host',
        }),
      ),
    ),
  ]);
  const rows: AuditedContainer[] = observations.map((obs) => ({
    obs,
    assessment: notRunning(obs.info, assess(obs.table?.procs ?? null, obs.pids, s)),
  }));

  if (s.json) ctx.io.out(JSON.stringify(auditDocument(started, host, rows), null, 2) + '\n');
  else ctx.io.out(auditTable(rows));

  if (s.promFile) {
    try {
      await writeFileAtomic(s.promFile, promText(rows, started.getTime()));
    } catch (e) {
      throw new UsageError(`--prom-file ${s.promFile}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return rows.some((r) => r.assessment.status === 'critical') ? EXIT.unhealthy : EXIT.ok;
}

/**
 * A selected container that does not run is not observed (a paused one's processes are frozen,
 * exec into it is refused): paused is its own status, any other state a warning with the reason.
 */
function notRunning(info: ContainerInfo, a: Assessment): Assessment {
  const reason = notActingReason(info);
  if (!reason) return a;
  return { ...a, status: info.state === 'paused' ? 'paused' : 'warn', reasons: [reason] };
}
