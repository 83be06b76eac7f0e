// `pidwarden top`: a read-only full-screen view, refreshed every --interval seconds (default 2).
// Hand-written ANSI (alternate screen, cursor hidden, raw keys) instead of a terminal UI library:
// the usual ones (ink: React's reconciler and yoga; blessed: no release for years, the last is
// 0.1.81) would add megabytes to the single binary and its RSS for one table. Without a terminal
// it prints one frame and returns.
import { hostname } from 'node:os';
import { readRecentActions } from '../top/recent-actions.ts';
import { observeRows, TasksHistory } from '../top/rows.ts';
import { render, sortByTrouble, type TopModel, type ViewState } from '../top/view.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from '../errors.ts';
import { inspectById } from '../engine/containers.ts';
import { explainText } from '../report/explain.ts';
import { explainInput } from './explain.ts';

const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';
/** Lines of recent actions read from --log-file. */
const ACTIONS_SHOWN = 6;

export async function runTop(ctx: CommandContext, env: Record<string, string | undefined> = process.env): Promise<number> {
  const s = ctx.settings;
  const history = new TasksHistory();
  const model: TopModel = { host: hostname(), intervalSeconds: s.intervalSeconds, now: new Date(), rows: [], actions: s.logFile ? [] : null };
  const state: ViewState = { selected: 0, details: false };
  let selectedId: string | null = null;

  const refresh = async () => {
    const rows = sortByTrouble(await observeRows(ctx.engine, s, history, ctx.timeoutMs));
    model.rows = rows;
    model.now = new Date();
    model.error = undefined;
    if (s.logFile) model.actions = readRecentActions(s.logFile, ACTIONS_SHOWN) ?? [];
    const keep = selectedId === null ? -1 : rows.findIndex((r) => r.id === selectedId);
    state.selected = keep >= 0 ? keep : Math.min(state.selected, Math.max(0, rows.length - 1));
    selectedId = rows[state.selected]?.id ?? null;
  };

  const stdout = process.stdout;
  const stdin = process.stdin;
  // NO_COLOR: https://no-color.org (present and not empty: no colour)
  const colour = Boolean(stdout.isTTY) && !env['NO_COLOR'];
  if (!stdout.isTTY || !stdin.isTTY) {
    await refresh();
    ctx.io.out(render(model, state, { cols: stdout.columns || 80, rows: 24 }, false).map((l) => l.trimEnd()).join('\n') + '\n');
    return EXIT.ok;
  }

  await refresh(); // a named container that does not exist, or no engine: said before the screen changes
  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const draw = () => ctx.io.out('\x1b[H' + render(model, state, size(), colour).join('\r\n'));

  let quit!: () => void;
  const done = new Promise<void>((r) => (quit = r));
  const onKey = (data: Buffer) => {
    const k = data.toString('latin1');
    if (k === 'q' || k === 'Q' || k === '\x03' || k === '\x04') return quit();
    if (state.details) {
      if (k === '\r' || k === '\n' || k === '\x1b' || k === '\x7f') state.details = false;
    } else if (k === 'j' || k === '\x1b[B' || k === '\x1bOB') state.selected = Math.min(state.selected + 1, Math.max(0, model.rows.length - 1));
    else if (k === 'k' || k === '\x1b[A' || k === '\x1bOA') state.selected = Math.max(0, state.selected - 1);
    else if ((k === '\r' || k === '\n') && model.rows.length > 0) {
      state.details = true;
      void explainSelected(model.rows[state.selected]!.id);
    } else return;
    if (!state.details) model.explain = undefined;
    selectedId = model.rows[state.selected]?.id ?? null;
    draw();
  };
  // Enter: `explain` of the selected container below its details (the same observation and plan).
  const explainSelected = async (id: string) => {
    model.explain = ['explaining…'];
    try {
      const info = await inspectById(ctx.engine, id);
      const text = info && info.running ? explainText(await explainInput(ctx, info), { width: size().cols, colour: false }) : 'not running';
      if (state.details && model.rows[state.selected]?.id === id) model.explain = planFirst(text.trimEnd().split('\n'));
    } catch (e) {
      model.explain = [`explain failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`];
    }
    if (state.details) draw();
  };
  const signals = { SIGINT: () => quit(), SIGTERM: () => quit(), SIGHUP: () => quit() };
  const onResize = () => {
    ctx.io.out('\x1b[2J');
    draw();
  };

  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      await refresh();
    } catch (e) {
      model.error = `${e instanceof Error ? e.message.split('\n')[0] : String(e)}; retrying`;
      model.now = new Date();
    }
    if (stopped) return;
    draw();
    timer = setTimeout(tick, s.intervalSeconds * 1000);
  };

  try {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
    for (const [sig, h] of Object.entries(signals)) process.on(sig, h);
    stdout.on('resize', onResize);
    ctx.io.out(ENTER_SCREEN + '\x1b[2J');
    draw();
    timer = setTimeout(tick, s.intervalSeconds * 1000);
    await done;
  } finally {
    stopped = true;
    if (timer) clearTimeout(timer);
    stdout.off('resize', onResize);
    for (const [sig, h] of Object.entries(signals)) process.off(sig, h);
    stdin.off('data', onKey);
    try {
      stdin.setRawMode(false);
    } catch {
      // the terminal is gone (SIGHUP): nothing to restore on it
    }
    stdin.pause();
    ctx.io.out(LEAVE_SCREEN);
  }
  return EXIT.ok;
}

/**
 * explain's lines with its plan first, then its limit and growth lines, then the process tree: on
 * a 24-line screen the plan is what must fit (the status and reasons are in the details above).
 */
function planFirst(lines: string[]): string[] {
  const planAt = lines.findIndex((l) => l.startsWith('plan: '));
  const treeAt = lines.findIndex((l) => l.startsWith('processes: '));
  if (planAt < 0 || treeAt < 0 || treeAt > planAt) return lines;
  const head = lines.slice(0, treeAt).filter((l) => /^(limit|growth|note): /.test(l));
  return [...lines.slice(planAt), ...head, '', ...lines.slice(treeAt, planAt).filter((l) => l !== '')];
}
