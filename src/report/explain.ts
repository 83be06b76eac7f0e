// `pidwarden explain`: one container for a person at a terminal, or as one JSON document. Pure:
// the command gathers the figures (src/commands/explain.ts); this lays them out. Lines never
// exceed the width given (the terminal's, 80 when not a terminal); colour only when asked.
import type { Assessment } from '../decide/classify.ts';
import type { Insight } from '../decide/insight.ts';
import type { Plan } from '../decide/plan.ts';
import { USER_HZ } from '../observe/boot-time.ts';
import { duration } from '../decide/growth.ts';
import type { Proc } from '../types.ts';
import { oneLine } from './table.ts';

export interface ExplainInput {
  container: { id: string; name: string; image: string; state: string };
  assessment: Assessment;
  insight: Insight;
  plan: Plan;
  procs: Proc[] | null;
  tasks: number | null;
  source: string;
  /** Seconds since boot now, to turn start ticks into ages (null when not known here). */
  uptimeSeconds: number | null;
  problems: string[];
}

/** Siblings with one command line: the first SHOWN are listed, the rest folded into one line. */
const FOLD_OVER = 3;
const SHOWN = 2;
/** Victims listed per plan step before "... N more". */
const VICTIMS_SHOWN = 8;

export interface ExplainRow {
  pid: number;
  ppid: number;
  depth: number;
  ageSeconds: number | null;
  threads: number | null;
  state: string;
  command: string;
  runaway: 'root' | 'member' | null;
  orphan: boolean;
  duplicate: boolean;
  zombie: boolean;
}

function ageOf(p: Proc, uptime: number | null): number | null {
  if (uptime === null || p.startTicks === undefined) return null;
  return Math.max(0, Math.round(uptime - p.startTicks / USER_HZ));
}

/** The table as a tree, depth-first, children oldest first, with what each process is. */
export function explainRows(input: ExplainInput): ExplainRow[] {
  const procs = input.procs ?? [];
  const roots = new Set(input.assessment.trees.map((t) => t.root.pid));
  const orphans = new Set(input.assessment.trees.filter((t) => t.orphan).map((t) => t.root.pid));
  const dups = new Set(input.assessment.duplicates.flatMap((d) => d.pids));
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const children = new Map<number, Proc[]>();
  for (const p of procs) {
    const parent = byPid.has(p.ppid) && p.ppid !== p.pid ? p.ppid : 0;
    const siblings = children.get(parent);
    if (siblings) siblings.push(p);
    else children.set(parent, [p]);
  }
  const order = (a: Proc, b: Proc) => (a.startTicks ?? 0) - (b.startTicks ?? 0) || a.pid - b.pid;
  const rows: ExplainRow[] = [];
  const seen = new Set<number>();
  // Depth-first with a stack of our own, not recursion: a chain of processes each waiting for its
  // child (a command that runs itself) is as deep as the pids limit lets it, and recursion
  // overflowed the call stack from ~30,000 levels.
  const walk = (start: Proc) => {
    const stack: [p: Proc, depth: number, inTree: boolean][] = [[start, 0, false]];
    while (stack.length > 0) {
      const [p, depth, inTree] = stack.pop()!;
      if (seen.has(p.pid)) continue;
      seen.add(p.pid);
      const isRoot = roots.has(p.pid);
      rows.push({
        pid: p.pid,
        ppid: p.ppid,
        depth,
        ageSeconds: ageOf(p, input.uptimeSeconds),
        threads: p.threads ?? null,
        state: p.state ?? '?',
        command: p.command,
        runaway: isRoot ? 'root' : inTree ? 'member' : null,
        orphan: orphans.has(p.pid),
        duplicate: dups.has(p.pid),
        zombie: p.state === 'Z',
      });
      // reversed onto the stack, so the oldest child comes off first
      const kids = (children.get(p.pid) ?? []).sort(order);
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1, inTree || isRoot]);
    }
  };
  for (const top of (children.get(0) ?? []).sort(order)) walk(top);
  for (const p of procs) walk(p); // anything a cycle hid
  return rows;
}

export function explainDocument(input: ExplainInput) {
  const { insight, plan } = input;
  return {
    container: input.container,
    status: input.assessment.status,
    reasons: input.assessment.reasons,
    notes: insight.notes,
    problems: input.problems,
    limit: { ...insight.limit },
    growth: insight.growth,
    processes: {
      total: input.procs?.length ?? null,
      tasks: input.tasks,
      runawayTrees: input.assessment.trees.length,
      orphans: input.assessment.orphans,
      zombies: input.assessment.zombies,
      source: input.source,
      tree: explainRows(input),
    },
    plan: {
      leftAlone: plan.leftAlone,
      steps: plan.steps.map((s) =>
        s.kind === 'kill'
          ? {
              step: s.plan.step,
              reason: s.plan.reason,
              victims: s.plan.victims.map((v) => ({ pid: v.root.pid, command: v.root.command, pids: v.tree.map((p) => p.pid) })),
            }
          : { step: 'restart' as const, reason: s.reason },
      ),
      end: plan.stop
        ? { verdict: plan.stop.verdict, reason: plan.stop.reason, ...(plan.stop.event ? { event: plan.stop.event } : {}) }
        : { verdict: 'restart', reason: 'the container would be restarted' },
      after: plan.after,
    },
  };
}

const COLOURS = { red: '\x1b[31m', yellow: '\x1b[33m', green: '\x1b[32m', bold: '\x1b[1m', dim: '\x1b[2m', reset: '\x1b[0m' } as const;

export function explainText(input: ExplainInput, opts: { width: number; colour: boolean }): string {
  const width = Math.max(40, opts.width);
  const paint = (c: keyof typeof COLOURS, text: string) => (opts.colour ? `${COLOURS[c]}${text}${COLOURS.reset}` : text);
  const out: string[] = [];
  // Cut on the plain text, then paint: a cut escape sequence would leave the terminal coloured.
  const line = (text: string, colour?: keyof typeof COLOURS) => {
    const cut = oneLine(text, width);
    out.push(colour ? paint(colour, cut) : cut);
  };
  const a = input.assessment;
  const statusColour = a.status === 'critical' ? 'red' : a.status === 'warn' ? 'yellow' : 'green';
  line(`${input.container.name} (${input.container.id.slice(0, 12)}, image ${input.container.image}): ${a.status.toUpperCase()}`, statusColour);
  // the limit has its own line below: its verdict is not repeated among the reasons
  const limitWords = new Set([input.insight.limit.line, 'no pids limit']);
  for (const r of a.reasons) if (!limitWords.has(r)) line(`  - ${r}`);
  for (const p of input.problems) line(`  ! ${p}`);
  line(`limit: ${input.insight.limit.line}`);
  const g = input.insight.growth;
  const growth = input.insight.notes.find((n) => n.startsWith('growth: '));
  line(growth ?? `growth: no forecast yet (${g.samples} sample${g.samples === 1 ? '' : 's'} in the last ${Math.round(g.windowSeconds / 3600)} h; 3 over 2 minutes needed)`);
  for (const n of input.insight.notes) if (!n.startsWith('growth: ')) line(`note: ${n}`);
  out.push('');

  const total = input.procs?.length;
  line(`processes: ${total ?? '?'} (${input.tasks ?? '?'} tasks), ${a.trees.length} runaway tree${a.trees.length === 1 ? '' : 's'}, ${a.orphans} orphan${a.orphans === 1 ? '' : 's'}, ${a.zombies} zombie${a.zombies === 1 ? '' : 's'}; from ${input.source}`, 'bold');
  line('  marks: * runaway tree  o orphan (wrapper gone)  d duplicate  Z zombie', 'dim');
  line(`  ${'M'.padEnd(2)} ${'PID'.padStart(7)} ${'AGE'.padStart(5)} ${'THR'.padStart(4)} S COMMAND`);
  // Indentation beyond the width is cut off anyway: capped, a 30,000-deep chain costs 30,000 short
  // lines to cut, not 30,000 lines of up to 60,000 spaces (9 s of explain, the same text).
  const indent = (depth: number) => '  '.repeat(Math.min(depth, width));
  for (const r of foldRows(explainRows(input))) {
    if ('folded' in r) {
      line(`  ${''.padEnd(2)} ${''.padStart(7)} ${''.padStart(5)} ${''.padStart(4)}   ${indent(r.depth)}… ${r.folded} more ${r.trees ? 'trees' : 'processes'} of \`${r.command}\`${r.trees ? ` (${r.processes} processes)` : ''}`, 'dim');
      continue;
    }
    const mark = `${r.zombie ? 'Z' : r.runaway === 'root' ? (r.orphan ? 'o' : '*') : r.runaway === 'member' ? '+' : ' '}${r.duplicate ? 'd' : ' '}`;
    const age = r.ageSeconds === null ? '-' : compactAge(r.ageSeconds);
    const text = `  ${mark} ${String(r.pid).padStart(7)} ${age.padStart(5)} ${String(r.threads ?? '-').padStart(4)} ${r.state.padEnd(1)} ${indent(r.depth)}${r.command}`;
    line(text, r.runaway === 'root' ? 'yellow' : r.zombie ? 'dim' : undefined);
  }
  out.push('');

  line('plan: what `cleanup` would do now (a dry run of the same decision)', 'bold');
  if (input.plan.leftAlone !== null) {
    line(`  none: cleanup leaves this container alone: ${input.plan.leftAlone}`);
    return out.join('\n') + '\n';
  }
  if (input.plan.steps.length === 0) line('  nothing to kill');
  input.plan.steps.forEach((s, i) => {
    if (s.kind === 'restart') {
      line(`  ${i + 1}. restart the container: ${s.reason}`);
      return;
    }
    line(`  ${i + 1}. ${s.plan.step}: ${s.plan.reason} (${s.plan.victims.length} tree${s.plan.victims.length === 1 ? '' : 's'}, ${s.plan.victims.reduce((n, v) => n + v.tree.length, 0)} processes)`);
    for (const v of s.plan.victims.slice(0, VICTIMS_SHOWN)) {
      line(`       kill ${v.root.pid}${v.tree.length > 1 ? ` +${v.tree.length - 1}` : ''}: ${v.root.command}`);
    }
    if (s.plan.victims.length > VICTIMS_SHOWN) line(`       … ${s.plan.victims.length - VICTIMS_SHOWN} more trees`, 'dim');
  });
  const end = input.plan.stop;
  const after = input.plan.after;
  if (end) {
    const verb = end.event === 'restart-skipped' ? 'restart skipped' : end.event === 'restart-suppressed' ? 'restart suppressed' : `ends ${end.verdict}`;
    line(`  then: ${verb}: ${end.reason} (${after.processes ?? '?'} processes, ${after.pidsCurrent ?? '?'} tasks)`);
  } else line('  then: restarted, and observed again');
  return out.join('\n') + '\n';
}

type Folded = { folded: number; command: string; depth: number; trees: boolean; processes: number };

/**
 * Long runs of siblings with one command line (npx sessions start interleaved, so "run" means the
 * same parent, not adjacent rows): the first SHOWN stay with their trees, the rest fold into one
 * line, in the place of the group's first member. Rows come depth-first (explainRows).
 */
export function foldRows(rows: ExplainRow[]): (ExplainRow | Folded)[] {
  const kids = new Map<number, ExplainRow[]>();
  const top: ExplainRow[] = [];
  // A row's subtree runs until the next row no deeper than it. Found with one pass and a stack of
  // the rows still open: scanning ahead from every row cost 50 million steps on a 10,000-deep chain.
  const size = new Map<number, number>();
  const open: number[] = [];
  const closeDownTo = (depth: number, at: number) => {
    while (open.length > 0 && rows[open[open.length - 1]!]!.depth >= depth) {
      const i = open.pop()!;
      size.set(rows[i]!.pid, at - i);
    }
  };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    closeDownTo(r.depth, i);
    open.push(i);
    if (r.depth === 0) top.push(r);
    else {
      const siblings = kids.get(r.ppid);
      if (siblings) siblings.push(r);
      else kids.set(r.ppid, [r]);
    }
  }
  closeDownTo(0, rows.length);
  // Depth-first with a stack of our own, as explainRows: recursion overflowed on deep chains.
  // A row on the stack is shown, then its children's groups go on the stack above its siblings.
  type Work = { row: ExplainRow } | { folded: Folded } | { siblings: ExplainRow[] };
  const out: (ExplainRow | Folded)[] = [];
  const stack: Work[] = [{ siblings: top }];
  while (stack.length > 0) {
    const w = stack.pop()!;
    if ('row' in w) {
      out.push(w.row);
      stack.push({ siblings: kids.get(w.row.pid) ?? [] });
      continue;
    }
    if ('folded' in w) {
      out.push(w.folded);
      continue;
    }
    const groups = new Map<string, ExplainRow[]>();
    for (const r of w.siblings) {
      const group = groups.get(r.command);
      if (group) group.push(r);
      else groups.set(r.command, [r]);
    }
    const shown: Work[] = [];
    for (const group of groups.values()) {
      if (group.length <= FOLD_OVER) {
        for (const r of group) shown.push({ row: r });
        continue;
      }
      for (const r of group.slice(0, SHOWN)) shown.push({ row: r });
      const rest = group.slice(SHOWN);
      const first = rest[0]!;
      shown.push({ folded: { folded: rest.length, command: first.command, depth: first.depth, trees: first.runaway === 'root', processes: rest.reduce((n, r) => n + (size.get(r.pid) ?? 1), 0) } });
    }
    for (let i = shown.length - 1; i >= 0; i--) stack.push(shown[i]!);
  }
  return out;
}

function compactAge(s: number): string {
  return duration(s).replace(' ', '').replace('min', 'm');
}
