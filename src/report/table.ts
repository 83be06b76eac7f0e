// The human report: one line a container, worst first, then the reasons indented below it.
import type { AuditedContainer } from './json.ts';

const STATUS_ORDER = { critical: 0, warn: 1, ok: 2, paused: 3 } as const;

export function auditTable(rows: AuditedContainer[]): string {
  if (rows.length === 0) return 'no containers selected\n';
  const sorted = [...rows].sort(
    (a, b) => STATUS_ORDER[a.assessment.status] - STATUS_ORDER[b.assessment.status] || a.obs.info.name.localeCompare(b.obs.info.name),
  );
  // TASKS is pids.current/pids.max: threads and zombies count there, not only processes.
  const header = ['STATUS', 'CONTAINER', 'PROCS', 'MATCH', 'DUPS', 'ZOMB', 'TASKS', 'CPU%', 'MEM', 'SOURCE'];
  const lines: string[][] = [header];
  for (const { obs, assessment: a } of sorted) {
    const known = obs.table !== null;
    lines.push([
      a.status.toUpperCase(),
      obs.info.name,
      known ? String(a.total) : '-',
      known ? String(a.trees.length) : '-',
      known ? String(a.duplicates.reduce((n, d) => n + d.count - 1, 0)) : '-',
      known ? String(a.zombies) : '-',
      `${obs.pids.current ?? '?'}/${obs.pids.max ?? 'max'}`,
      obs.stats?.cpuPercent === null || obs.stats === null ? '-' : obs.stats.cpuPercent.toFixed(1),
      obs.stats?.memoryBytes == null ? '-' : humanBytes(obs.stats.memoryBytes),
      // A local engine's container seen only through the engine (locality.ts) says so here.
      `${obs.table?.source ?? 'none'}/${obs.pids.source}${obs.layout.remoteReason && !obs.layout.remoteReason.startsWith('engine at') ? ' (remote)' : ''}`,
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => displayWidth(l[i]!))));
  const out: string[] = [];
  lines.forEach((cells, row) => {
    out.push(cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - displayWidth(c)))).join('  '));
    if (row === 0) return;
    const { obs, assessment, insight } = sorted[row - 1]!;
    for (const r of assessment.reasons) out.push(`    - ${oneLine(r)}`);
    for (const n of insight?.notes ?? []) out.push(`    . ${oneLine(n)}`);
    for (const p of obs.problems) out.push(`    ! ${oneLine(p)}`);
  });
  return out.join('\n') + '\n';
}

/**
 * `s` with no control character left: a newline and a tab as the two characters \n and \t; every other C0
 * byte, DEL and the C1 range U+0080-U+009F as "?" (U+009B is the 8-bit CSI, which some terminals
 * act on as on ESC [). Command lines come from inside the container: a process there may hold any.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : '?'));
}

/** Command lines may hold newlines and control bytes; a table row must stay one row. */
export function oneLine(s: string, max = 160): string {
  return cutToColumns(printable(s), max);
}

const graphemes = new Intl.Segmenter();

/**
 * `s` cut to at most `max` terminal columns, "…" marking the cut, never inside a character (an
 * emoji with its joiners, a letter with its accents). Columns, not UTF-16 units: a CJK character
 * or an emoji takes two, so a command line of them cut at 80 units took up to 160 columns and
 * the terminal wrapped it. Printable text only (see printable).
 */
export function cutToColumns(s: string, max: number): string {
  if (Bun.stringWidth(s) <= max) return s;
  // printable ASCII is one column a character: no need to find graphemes (explain cuts a line per process)
  if (/^[\x20-\x7e]*$/.test(s)) return s.slice(0, Math.max(0, max - 1)) + '…';
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(s)) {
    const w = Bun.stringWidth(segment);
    if (used + w > max - 1) break;
    out += segment;
    used += w;
  }
  return out + '…';
}

function displayWidth(s: string): number {
  return [...s].length;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  // Compare what will be printed: 1048575 B is 1023.999 KiB, which would round to "1024KiB".
  while (Math.round(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}
