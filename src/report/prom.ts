// Prometheus text exposition for node_exporter's textfile collector. Written to a temp file in the
// same directory and renamed, so the collector never reads a half-written file (its documented rule).
import { rename, writeFile, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { AuditedContainer } from './json.ts';

interface Metric {
  name: string;
  help: string;
  type: 'gauge';
  value: (c: AuditedContainer) => number | null;
}

const STATUS_VALUE = { ok: 0, warn: 1, critical: 2, paused: 3 } as const;

const METRICS: Metric[] = [
  { name: 'pidwarden_container_status', help: 'Container status: 0 ok, 1 warn, 2 critical, 3 paused (never acted on).', type: 'gauge', value: (c) => STATUS_VALUE[c.assessment.status] },
  { name: 'pidwarden_container_processes', help: 'Processes in the container.', type: 'gauge', value: (c) => (c.obs.table ? c.assessment.total : null) },
  { name: 'pidwarden_container_matching_processes', help: 'Runaway trees: processes matching --match or running from the npx cache, nested ones counted with their tree.', type: 'gauge', value: (c) => (c.obs.table ? c.assessment.trees.length : null) },
  { name: 'pidwarden_container_orphaned_servers', help: 'Runaway trees whose npm exec wrapper is gone.', type: 'gauge', value: (c) => (c.obs.table ? c.assessment.orphans : null) },
  { name: 'pidwarden_container_duplicate_processes', help: 'Matching processes beyond the first of each identical command line.', type: 'gauge', value: (c) => (c.obs.table ? c.assessment.duplicates.reduce((n, d) => n + d.count - 1, 0) : null) },
  { name: 'pidwarden_container_zombies', help: 'Zombie processes in the container.', type: 'gauge', value: (c) => (c.obs.table ? c.assessment.zombies : null) },
  { name: 'pidwarden_container_pids_current', help: 'pids.current of the container cgroup (tasks: threads and zombies included).', type: 'gauge', value: (c) => c.obs.pids.current },
  { name: 'pidwarden_container_pids_max', help: 'pids.max of the container cgroup; absent when unlimited.', type: 'gauge', value: (c) => c.obs.pids.max },
  { name: 'pidwarden_container_cpu_percent', help: 'CPU percent over a short window.', type: 'gauge', value: (c) => c.obs.stats?.cpuPercent ?? null },
  { name: 'pidwarden_container_memory_bytes', help: 'Memory used, page cache excluded.', type: 'gauge', value: (c) => c.obs.stats?.memoryBytes ?? null },
  { name: 'pidwarden_container_memory_limit_bytes', help: 'Memory limit.', type: 'gauge', value: (c) => c.obs.stats?.memoryLimitBytes ?? null },
];

export function promText(rows: AuditedContainer[], nowMs: number): string {
  const out: string[] = [];
  for (const m of METRICS) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const c of rows) {
      const v = m.value(c);
      if (v === null || !Number.isFinite(v)) continue;
      out.push(`${m.name}{id="${c.obs.info.id.slice(0, 12)}",name="${escapeLabel(c.obs.info.name)}"} ${v}`);
    }
  }
  out.push('# HELP pidwarden_audit_timestamp_seconds When this audit ran.', '# TYPE pidwarden_audit_timestamp_seconds gauge');
  out.push(`pidwarden_audit_timestamp_seconds ${Math.floor(nowMs / 1000)}`);
  return out.join('\n') + '\n';
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
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
