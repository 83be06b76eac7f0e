// `pidwarden top`, drawn: a pure function from what was observed and where the cursor is to the
// screen's lines, each at most `cols` wide, exactly `rows` of them. Fits 80x24. Colour (ANSI SGR)
// only when asked; the selected row is also marked with '>' so that it shows without colour.
import type { Status } from '../types.ts';
import type { RecentAction } from './recent-actions.ts';
import { cutToColumns, printable } from '../report/table.ts';
import { sparkline } from './sparkline.ts';

export interface TopRow {
  id: string;
  name: string;
  image: string;
  status: Status;
  processes: number | null;
  runaway: number | null;
  tasks: number | null;
  limit: number | null;
  pidsRatio: number;
  /** tasks (pids.current) at each refresh, oldest first */
  history: number[];
  reasons: string[];
  duplicates: { command: string; count: number }[];
  orphans: number;
  zombies: number;
  policy: string[];
}

export interface TopModel {
  host: string;
  intervalSeconds: number;
  now: Date;
  rows: TopRow[];
  /** null: no --log-file given; [] : given, nothing to show yet */
  actions: RecentAction[] | null;
  /** the last refresh failed (engine unreachable…): said on the title line, the last figures kept */
  error?: string;
  /** Details view: `explain`'s text of the selected container (plan, tree), once computed. */
  explain?: string[];
}

export interface ViewState {
  selected: number;
  details: boolean;
}

const STATUS_ORDER: Record<Status, number> = { critical: 0, warn: 1, ok: 2, paused: 3 };
const LABEL: Record<Status, string> = { critical: 'CRIT', warn: 'WARN', ok: 'OK', paused: 'PAUS' };
const COLOUR: Record<Status, string> = { critical: '\x1b[31;1m', warn: '\x1b[33m', ok: '\x1b[32m', paused: '\x1b[2m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const REVERSE = '\x1b[7m';
const DIM = '\x1b[2m';
/** Lines of the actions pane when a log file is given (title included). */
const ACTION_LINES = 7;
const GROWTH_WIDTH = 10;
/** Everything on a table line but the name: marker, status, PROCS, RUNAWAY, TASKS/LIMIT, LIMIT, GROWTH and the spaces. */
const FIXED_WIDTH = 2 + 5 + 6 + 8 + 12 + 10 + GROWTH_WIDTH;

/** Worst first: status, then closeness to the pids limit, then processes, then name. */
export function sortByTrouble(rows: TopRow[]): TopRow[] {
  const fill = (r: TopRow) => (r.limit && r.tasks !== null ? r.tasks / r.limit : 0);
  return [...rows].sort(
    (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || fill(b) - fill(a) || (b.processes ?? 0) - (a.processes ?? 0) || a.name.localeCompare(b.name),
  );
}

/** The limit in a word: none, how full, near (at or past --pids-ratio, unhealthy), at the limit. */
export function limitVerdict(tasks: number | null, limit: number | null, ratio: number): string {
  if (limit === null) return 'no limit';
  if (tasks === null) return '?';
  if (tasks >= limit) return 'AT LIMIT';
  if (tasks >= ratio * limit) return `near ${Math.floor((tasks / limit) * 100)}%`;
  return `${Math.floor((tasks / limit) * 100)}%`;
}

export function render(m: TopModel, v: ViewState, size: { cols: number; rows: number }, colour: boolean): string[] {
  const cols = Math.max(20, size.cols);
  const rows = Math.max(5, size.rows);
  const paint = (code: string, text: string) => (colour ? `${code}${text}${RESET}` : text);
  // Every line goes through fit, and colour is painted on after it: so no process data (a duplicate's
  // command line, a reason quoting one, the log's reasons) reaches the terminal as an escape sequence
  // or a line break, which would retitle or clear the operator's terminal or push the screen down.
  // Cut and padded in terminal columns (a CJK character or an emoji takes two): a line wider than
  // the screen wraps, and the screen, drawn over in place, moves down a line with it.
  const fit = (raw: string) => {
    const s = cutToColumns(printable(raw), cols);
    return s + ' '.repeat(Math.max(0, cols - Bun.stringWidth(s)));
  };
  const lines: string[] = [];
  const clock = m.now.toISOString().slice(11, 19);
  const counts = `${m.rows.length} container${m.rows.length === 1 ? '' : 's'}`;
  lines.push(paint(BOLD, fit(`pidwarden top · ${m.host} · ${counts} · every ${m.intervalSeconds} s · ${clock}`)));
  lines.push(m.error ? paint(COLOUR.critical, fit(`! ${m.error}`)) : fit(''));

  const body = v.details
    ? [...details(m, v, cols, paint, fit), ...(m.explain ? [paint(DIM, fit('─ explain ' + '─'.repeat(Math.max(0, cols - 11)))), ...m.explain.map(fit)] : [])]
    : table(m, v, cols, rows, paint, fit);
  const footer = v.details ? 'Enter/Esc back · q quit · read-only' : '↑/↓ j/k move · Enter details · q quit · read-only';
  const actions = v.details || m.actions === null ? [] : actionLines(m.actions, cols, paint, fit);
  const room = rows - lines.length - actions.length - 1;
  for (let i = 0; i < room; i++) lines.push(body[i] ?? fit(''));
  lines.push(...actions);
  lines.push(paint(DIM, fit(footer)));
  return lines.slice(0, rows);
}

function table(m: TopModel, v: ViewState, cols: number, rows: number, paint: (c: string, t: string) => string, fit: (s: string) => string): string[] {
  const nameWidth = Math.max(9, cols - FIXED_WIDTH - 1);
  const head = `  ${'STAT'.padEnd(4)} ${'CONTAINER'.padEnd(nameWidth)} ${'PROCS'.padStart(5)} ${'RUNAWAY'.padStart(7)} ${'TASKS/LIMIT'.padStart(11)} ${'LIMIT'.padEnd(9)} GROWTH`;
  const out = [paint(BOLD, fit(head))];
  if (m.rows.length === 0) {
    out.push(fit('  no running container selected'));
    return out;
  }
  // keep the selection in view: the table area is what render() leaves for the body, less its header
  const area = Math.max(1, rows - 2 - (m.actions === null ? 0 : ACTION_LINES) - 1 - 1);
  const offset = Math.min(Math.max(0, v.selected - area + 1), Math.max(0, m.rows.length - area));
  m.rows.slice(offset, offset + area).forEach((r, i) => {
    const selected = offset + i === v.selected;
    const name = r.name.length > nameWidth ? r.name.slice(0, nameWidth - 1) + '…' : r.name.padEnd(nameWidth);
    const tasks = `${r.tasks ?? '?'}/${r.limit ?? 'max'}`;
    const text =
      `${selected ? '>' : ' '} ${LABEL[r.status].padEnd(4)} ${name} ${String(r.processes ?? '?').padStart(5)} ${String(r.runaway ?? '?').padStart(7)} ` +
      `${tasks.padStart(11)} ${limitVerdict(r.tasks, r.limit, r.pidsRatio).padEnd(9)} ${sparkline(r.history, GROWTH_WIDTH)}`;
    const line = fit(text);
    out.push(selected ? paint(REVERSE, line) : r.status === 'ok' ? line : paint(COLOUR[r.status], line));
  });
  return out;
}

function details(m: TopModel, v: ViewState, cols: number, paint: (c: string, t: string) => string, fit: (s: string) => string): string[] {
  const r = m.rows[v.selected];
  if (!r) return [fit('  the container is gone')];
  const out = [paint(BOLD, fit(`${r.name} (${r.id.slice(0, 12)}) ${r.image}`))];
  out.push(paint(r.status === 'ok' ? '' : COLOUR[r.status], fit(`status ${LABEL[r.status]}: ${r.reasons.length ? r.reasons.join('; ') : 'nothing to report'}`)));
  out.push(fit(`processes ${r.processes ?? '?'}, runaway trees ${r.runaway ?? '?'} (orphans ${r.orphans}), zombies ${r.zombies}`));
  out.push(fit(`tasks ${r.tasks ?? '?'} / limit ${r.limit ?? 'none'}: ${limitVerdict(r.tasks, r.limit, r.pidsRatio)}   growth ${sparkline(r.history, Math.min(30, cols - 30))}`));
  if (r.duplicates.length) {
    out.push(fit('duplicates:'));
    for (const d of r.duplicates.slice(0, 5)) out.push(fit(`  ${d.count} x ${d.command}`));
  }
  out.push(fit('policy:'));
  for (const p of r.policy) out.push(fit(`  ${p}`));
  return out;
}

function actionLines(actions: RecentAction[], cols: number, paint: (c: string, t: string) => string, fit: (s: string) => string): string[] {
  const out = [paint(BOLD, fit('─ last actions '.padEnd(cols, '─')))];
  if (actions.length === 0) out.push(fit('  none yet'));
  for (const a of actions.slice(0, ACTION_LINES - 1)) {
    const what = a.event === 'kill' ? `killed ${a.processes ?? '?'} (${a.step ?? '?'})` : a.event;
    const text = `${a.time.slice(11, 19)} ${a.dryRun ? '[dry] ' : ''}${a.container}: ${what}${a.reason ? ` · ${a.reason}` : ''}`;
    out.push(a.event === 'kill' || a.event === 'restart' ? fit(text) : paint(COLOUR.warn, fit(text)));
  }
  while (out.length < ACTION_LINES) out.push(fit(''));
  return out;
}
