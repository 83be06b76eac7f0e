// Pure: which processes are runaway, grouped into trees. A runaway process is one whose command
// line matches --match, or (with --npx-orphans, the default) runs a package out of npm's npx cache:
// when an `npm exec` wrapper dies alone (a naive script killed it, or an app's close() sent one
// SIGTERM to the group and never waited), its server is re-parented to PID 1 and runs on as
// `node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic`, matching no wrapper pattern
// (fixture test/fixtures/ps/_host-real-npm-exec/t+76min/proc-comm-stat-cmdline-status.txt shows
// that layout). A runaway process inside another runaway's tree belongs to that tree: npm exec ->
// sh -c -> node(_npx) is ONE tree, not two.
import type { Proc } from '../types.ts';
import { isZombie, matchesAny } from './match.ts';

/** npm 7+ installs `npx`/`npm exec` packages under ~/.npm/_npx/<hash>/ (libnpmexec). */
export const NPX_CACHE = /\/_npx\//;

export interface RunawayRules {
  match: RegExp[];
  /** Also count processes running from npm's npx cache (orphaned MCP servers). */
  npxOrphans: boolean;
  /** Never-kill patterns: a protected process does not hold the runaway processes below it. */
  protect: RegExp[];
}

export interface RunawayTree {
  root: Proc;
  /**
   * Matched only through the npx cache, with no npm process above it: its `npm exec` wrapper is
   * gone. (An npx-cache server below a live `npm x ...` that --match does not name is runaway but
   * not an orphan.)
   */
  orphan: boolean;
}

/** npm retitles itself `npm exec <pkg>`, `npm x <pkg>` (fixtures: _host-real-npm-exec). */
const NPM_TITLE = /^npm /;

function looksRunaway(p: Proc, rules: RunawayRules): boolean {
  return matchesAny(p.command, rules.match) || (rules.npxOrphans && NPX_CACHE.test(p.command));
}

/** Live, not PID 1, and matching: the container's own main process is never a runaway. */
export function isRunaway(p: Proc, rules: RunawayRules): boolean {
  return p.pid !== 1 && p.pid > 0 && !isZombie(p) && looksRunaway(p, rules);
}

/**
 * The roots of the runaway trees, in table order: runaway processes with no runaway ancestor.
 * A protected ancestor holds nothing and is no tree itself (it is never killed, so what runs below
 * it is judged on its own). A PID 1 that is itself a wrapper (a container whose CMD is
 * `npx -y some-mcp`: PID 1 `npm exec some-mcp`, its `node .../_npx/...` server below) vouches for
 * the npx-cache processes below it: they are its own server, not orphans. Processes matching
 * --match below it are still runaway.
 * Linear: each process's "held" answer is computed once and memoised; cycles (bad data) stop.
 */
export function runawayTrees(procs: Proc[], rules: RunawayRules): RunawayTree[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const pid1 = byPid.get(1);
  const pid1IsWrapper = pid1 !== undefined && looksRunaway(pid1, rules);
  const holds = (p: Proc) => isRunaway(p, rules) && !matchesAny(p.command, rules.protect);
  const held = new Map<number, boolean>();
  const underNpm = (p: Proc): boolean => {
    for (let q = byPid.get(p.ppid), n = 0; q && q.pid !== 1 && n < 4096; q = byPid.get(q.ppid), n++) {
      if (NPM_TITLE.test(q.command)) return true;
    }
    return false;
  };
  const isHeld = (start: Proc): boolean => {
    const path: Proc[] = [];
    let answer = false;
    let p: Proc = start;
    for (let steps = 0; steps < 4096; steps++) {
      const parent: Proc | undefined = p.ppid > 0 && p.ppid !== p.pid ? byPid.get(p.ppid) : undefined;
      if (!parent) break;
      const known = held.get(parent.pid);
      if (known !== undefined) {
        answer = known || holds(parent);
        break;
      }
      path.push(parent);
      if (holds(parent)) {
        answer = true;
        break;
      }
      p = parent;
    }
    held.set(start.pid, answer);
    // Every ancestor walked through without finding a holder shares the answer above it.
    for (const a of path) if (!held.has(a.pid) && !holds(a)) held.set(a.pid, answer);
    return answer;
  };
  const trees: RunawayTree[] = [];
  for (const p of procs) {
    // A protected process is kept on purpose: never a runaway tree of its own.
    if (!isRunaway(p, rules) || matchesAny(p.command, rules.protect) || isHeld(p)) continue;
    const byNpxOnly = !matchesAny(p.command, rules.match);
    if (byNpxOnly && pid1IsWrapper) continue;
    trees.push({ root: p, orphan: byNpxOnly && !underNpm(p) });
  }
  return trees;
}
