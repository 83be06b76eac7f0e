// The audit's Prometheus textfile for node_exporter's textfile collector, built from the same
// metric definitions as the monitor's /metrics (src/metrics/). Written to a temp file in the same
// directory and renamed, so the collector never reads a half-written file (its documented rule).
import { rename, writeFile, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { containerLabels, figuresOfAssessment, setCollectorSuccess, setContainerFigures } from '../metrics/container-figures.ts';
import { AUDIT_METRICS, M } from '../metrics/families.ts';
import { Registry } from '../metrics/registry.ts';
import { VERSION } from '../version.ts';
import type { AuditedContainer } from './json.ts';

const STATUS_VALUE = { ok: 0, warn: 1, critical: 2, paused: 3 } as const;

export function promText(rows: AuditedContainer[], nowMs: number): string {
  const reg = new Registry(AUDIT_METRICS);
  reg.set(M.up, {}, 1);
  reg.set(M.buildInfo, { version: VERSION }, 1);
  reg.set(M.engineUp, {}, 1);
  setCollectorSuccess(reg, ['engine', 'cgroup', 'processes', 'stats'], rows.flatMap((r) => r.obs.problems));
  for (const c of rows) {
    const labels = containerLabels(c.obs.info);
    setContainerFigures(reg, labels, figuresOfAssessment(c.obs, c.assessment, c.assessment.status !== 'critical'));
    reg.set(M.status, labels, STATUS_VALUE[c.assessment.status]);
    reg.set(M.cpuPercent, labels, c.obs.stats?.cpuPercent);
    reg.set(M.memoryBytes, labels, c.obs.stats?.memoryBytes);
    reg.set(M.memoryLimitBytes, labels, c.obs.stats?.memoryLimitBytes);
    if (c.insight) {
      const { limit, growth } = c.insight;
      reg.set(M.pidsLimitConfigured, labels, limit.configured);
      reg.set(M.limitVerdict, { ...labels, verdict: limit.verdict }, 1);
      reg.set(M.growthPerHour, labels, growth.perHour);
      reg.set(M.toMaxProcs, labels, growth.toMaxProcsSeconds);
      reg.set(M.toPidsMax, labels, growth.toPidsMaxSeconds);
    }
  }
  reg.set(M.auditTimestamp, {}, Math.floor(nowMs / 1000));
  return reg.render();
}

/**
 * What an audit that failed leaves in the file: pidwarden_up 0 and nothing else, so that the last
 * good run's numbers never linger as if current.
 */
export function promTextFailed(nowMs: number, engineReachable: boolean): string {
  const reg = new Registry(AUDIT_METRICS);
  reg.set(M.up, {}, 0);
  reg.set(M.buildInfo, { version: VERSION }, 1);
  reg.set(M.engineUp, {}, engineReachable ? 1 : 0);
  reg.set(M.collectorSuccess, { collector: 'engine' }, engineReachable ? 1 : 0);
  reg.set(M.auditTimestamp, {}, Math.floor(nowMs / 1000));
  return reg.render();
}

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
