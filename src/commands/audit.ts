// `pidwarden audit`: observe every running container once (less --exclude) and report, each with
// its own effective policy. Exit 1 when any is critical.
import { assess, type Assessment } from '../decide/classify.ts';
import { insightOfObservation, withWarnings } from '../decide/insight.ts';
import { containerPolicy, describePolicy, globalPolicy } from '../decide/policy.ts';
import { notActingReason, selectContainers, type ContainerInfo } from '../engine/containers.ts';
import { engineEnforcesPidsLimits } from '../engine/info.ts';
import { StateStore, type StateDoc } from '../state/state-file.ts';
import { markOf, windowStart } from '../observe/cpu-mark.ts';
import { clockMs, type CpuSample } from '../observe/stats.ts';
import { cpuSamplesNow, finishObservation, startObservation, type ObserveOptions } from '../observe/container.ts';
import { sharedZombieScan } from '../observe/host-proc.ts';
import { readHost } from '../observe/host.ts';
import { auditDocument, type AuditedContainer } from '../report/json.ts';
import { promText, promTextFailed, writeFileAtomic } from '../report/prom.ts';
import { isEngineLost } from '../engine/client.ts';
import { auditTable } from '../report/table.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from '../errors.ts';
import { UsageError } from '../errors.ts';
import { excludedBy } from './select.ts';
import { mapBounded } from '../bounded.ts';
import { auditFloods } from './audit-floods.ts';
import { floodsDocument, floodsText } from '../report/floods.ts';

export async function runAudit(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const started = new Date();
  let wrote = false;
  try {
    return await audit(ctx, started, () => (wrote = true));
  } catch (e) {
    // A failed audit must not leave the last good run's numbers looking current: pidwarden_up 0.
    if (s.promFile && !wrote) {
      const reachable = !isEngineLost(e);
      await writeFileAtomic(s.promFile, promTextFailed(started.getTime(), reachable)).catch(() => {});
    }
    throw e;
  }
}

async function audit(ctx: CommandContext, started: Date, attemptedPromFile: () => void): Promise<number> {
  const s = ctx.settings;
  const infos = (await selectContainers(ctx.engine, { containers: s.containers, labels: s.labels })).filter((i) => !excludedBy(i, s.exclude));
  const zombies = sharedZombieScan(s.procRoot);
  // Growth samples, the last forks-refused count and the CPU marks: one read before, one write after.
  const store = new StateStore(s.stateFile, (m) => ctx.io.err(`pidwarden: ${m}\n`));
  const state = store.snapshot();
  const cpuFirst = await cpuWindowStarts(ctx, infos, state);
  const observe = (info: ContainerInfo): ObserveOptions => ({
    procRoot: s.procRoot,
    cgroupRoot: s.cgroupRoot,
    processes: true,
    stats: true,
    execTimeoutMs: ctx.timeoutMs,
    preferHost: s.procSource === 'host',
    zombies,
    cpuFirst: cpuFirst.get(info.id),
  });
  const [host, enforceable, observations] = await Promise.all([
    readHost(),
    engineEnforcesPidsLimits(ctx.engine),
    // Concurrent, bounded (--concurrency), and in the listed order whatever finishes first. Every
    // container's start first (where it is; its table when the host's /proc alone gives it), then
    // the rest (stats after the shared CPU window, then ps where it is needed).
    mapBounded(infos, s.concurrency, (info) => startObservation(ctx.engine, info, observe(info))).then((started) =>
      mapBounded(started, s.concurrency, (st) => finishObservation(ctx.engine, st, observe(st.info))),
    ),
  ]);
  const nowMs = started.getTime();
  const rows: AuditedContainer[] = observations.map((obs) => {
    const policy = containerPolicy(s, obs.info.labels);
    const effective = policy.ok ? policy.policy : globalPolicy(s);
    const a = notRunning(obs.info, assess(obs.table?.procs ?? null, obs.pids, effective));
    const insight = insightOfObservation(obs, a, {
      maxProcs: effective.maxProcs,
      enforceable,
      record: state.containers[obs.info.id],
      nowMs,
      warnWithinS: s.warnWithinSeconds,
    });
    const assessment = withWarnings(a, insight);
    if (!policy.ok) {
      // Reported, never silently replaced: the figures use the global thresholds only so that
      // the row still says something; cleanup and monitor skip this container.
      const error = `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}; cleanup and monitor skip this container`;
      return {
        obs: { ...obs, problems: [...obs.problems, error] },
        assessment: { ...assessment, status: assessment.status === 'ok' ? 'warn' : assessment.status },
        policy: { error },
        insight,
      };
    }
    return { obs, assessment, policy: describePolicy(policy), insight };
  });
  store.recordSamples(
    rows.filter((r) => r.insight).map((r) => {
      const last = r.obs.stats?.cpuLast;
      return {
        id: r.obs.info.id,
        name: r.obs.info.name,
        row: r.insight!.sample,
        forksRefused: r.insight!.limit.forksRefused,
        ...(last ? { cpuMark: markOf(last, r.obs.info.startedAt) } : {}),
      };
    }),
  );

  const floods = await auditFloods(ctx, infos);
  if (s.json) ctx.io.out(JSON.stringify({ ...auditDocument(started, host, rows), ...(floods ? { floods: floodsDocument(floods) } : {}) }, null, 2) + '\n');
  else ctx.io.out(auditTable(rows) + (floods ? floodsText(floods) : ''));

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

/**
 * Where each container's CPU window starts: the previous audit's mark where there is a usable one
 * (cpu-mark.ts), else the counter read now for every other container at once (stats.ts).
 */
async function cpuWindowStarts(ctx: CommandContext, infos: ContainerInfo[], state: StateDoc): Promise<Map<string, CpuSample>> {
  const out = new Map<string, CpuSample>();
  const nowMs = clockMs();
  const fresh: ContainerInfo[] = [];
  for (const info of infos) {
    const start = ctx.engine.local ? windowStart(state.containers[info.id]?.cpuMark, info.startedAt, nowMs) : null;
    if (start) out.set(info.id, start);
    else fresh.push(info);
  }
  for (const [id, sample] of await cpuSamplesNow(ctx.engine, fresh, { procRoot: ctx.settings.procRoot, cgroupRoot: ctx.settings.cgroupRoot })) out.set(id, sample);
  return out;
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
