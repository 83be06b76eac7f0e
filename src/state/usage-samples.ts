// Pure: the idle rule's memory in the state file, under its own top-level key "usage" (a
// version-1 reader ignores it). Per container: its start time (a restart begins a new history)
// and samples [ms since epoch, CPU ns, block I/O bytes, network bytes, host uptime ms], oldest
// first (the uptime is absent in files written before it was kept: 4 numbers).
//   "usage": { "<full container ID>": { "name": "router-7", "startedAt": 1764600000000,
//              "samples": [[1764600030000, 81234000, 4096, 0, 5022000], ...] } }
// Bounded: samples older than KEEP_USAGE_MS go, at most MAX_SAMPLES_KEPT per container, and the
// containers no longer running go at the next reap pass (see recordUsage in state-file.ts).
import type { UsageSample } from '../decide/idle.ts';

export const KEEP_USAGE_MS = 7 * 86_400_000;
export const MAX_SAMPLES_KEPT = 64;

export interface UsageRecord {
  name: string;
  startedAt: number;
  samples: UsageSample[];
}

export type UsageSection = Record<string, UsageRecord>;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Whatever is well-formed in the section; anything else is dropped (samples are expendable). */
export function parseUsageSection(data: unknown): UsageSection {
  const out: UsageSection = {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return out;
  for (const [id, rec0] of Object.entries(data)) {
    const rec = rec0 as { name?: unknown; startedAt?: unknown; samples?: unknown };
    if (!/^[0-9a-f]{64}$/.test(id) || typeof rec !== 'object' || rec === null || !isCount(rec.startedAt) || !Array.isArray(rec.samples)) continue;
    const samples = rec.samples
      .filter((s): s is number[] => Array.isArray(s) && (s.length === 4 || s.length === 5) && s.every(isCount))
      .map(([t, cpuNs, blockBytes, netBytes, upMs]) => ({ t: t!, cpuNs: cpuNs!, blockBytes: blockBytes!, netBytes: netBytes!, ...(upMs === undefined ? {} : { upMs }) }));
    out[id] = { name: typeof rec.name === 'string' ? rec.name : '', startedAt: rec.startedAt, samples };
  }
  return out;
}

export function serializeUsageSection(section: UsageSection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(section)) {
    out[id] = { name: r.name, startedAt: r.startedAt, samples: r.samples.map((s) => [s.t, s.cpuNs, s.blockBytes, s.netBytes, ...(s.upMs === undefined ? [] : [s.upMs])]) };
  }
  return out;
}

export function pruneUsageSection(section: UsageSection, nowMs: number): UsageSection {
  const out: UsageSection = {};
  for (const [id, r] of Object.entries(section)) {
    const samples = r.samples.filter((s) => s.t > nowMs - KEEP_USAGE_MS).sort((a, b) => a.t - b.t).slice(-MAX_SAMPLES_KEPT);
    if (samples.length > 0) out[id] = { ...r, samples };
  }
  return out;
}
