// Pure: which processes are runaway, grouped into trees. A runaway process is one whose command
// line matches --match, or (with --npx-orphans, the default) runs a package out of npm's npx cache:
// when an `npm exec` wrapper dies alone (a naive script killed it, or an app's close() sent one
// SIGTERM to the group and never waited), its server is re-parented to PID 1 and runs on as
// `node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic`, matching no wrapper pattern
// (fixture test/fixtures/ps/_host-real-npm-exec/t+76min/proc-comm-stat-cmdline-status.txt shows
// that layout). A runaway process inside another runaway's tree belongs to that tree: npm exec ->
// sh -c -> node(_npx) is ONE tree, not two.
import type { Proc } from '../types.ts';
import { isInitShim, mainProcesses } from './main-process.ts';
import { isZombie, matchesAny } from './match.ts';

/** npm 7+ installs `npx`/`npm exec` packages under ~/.npm/_npx/<hash>/ (libnpmexec). */
export const NPX_CACHE = /\/_npx\//;

export interface RunawayRules {
  match: RegExp[];
  /** When set, a process must also match one of these (--match narrowing a label's: policy.ts). */
  matchAlso?: RegExp[];
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

function matchesPattern(p: Proc, rules: RunawayRules): boolean {
  return matchesAny(p.command, rules.match) && (rules.matchAlso === undefined || matchesAny(p.command, rules.matchAlso));
}

function looksRunaway(p: Proc, rules: RunawayRules): boolean {
  return matchesPattern(p, rules) || (rules.npxOrphans && NPX_CACHE.test(p.command));
}

/** Live, not PID 1, and matching (the other main processes are left out by runawayTrees: main-process.ts). */
export function isRunaway(p: Proc, rules: RunawayRules): boolean {
  return p.pid !== 1 && p.pid > 0 && !isZombie(p) && looksRunaway(p, rules);
}

/**
 * Matches --protect; or its command line may be cut short (BusyBox's no-desktop `ps` cuts at 79
 * bytes, toybox's ARGS at argv[0]'s last '/': src/observe/ps/parse.ts) while any --protect is
 * set, because the cut-off part could be what the pattern names.
 */
export function isProtected(p: Proc, protect: RegExp[]): boolean {
  return matchesAny(p.command, protect) || (p.truncated === true && protect.length > 0);
}

/**
 * The roots of the runaway trees, in table order: runaway processes with no runaway ancestor.
 * The container's main process (main-process.ts: PID 1, a shared namespace's init, an init
 * shim's CMD) is never one, nor does it hold what runs below it. A protected ancestor holds
 * nothing and is no tree itself (it is never killed, so what runs below it is judged on its own).
 * A main process that is itself a wrapper (a container whose CMD is `npx -y some-mcp`: PID 1
 * `npm exec some-mcp`, its `node .../_npx/...` server below) vouches for the npx-cache processes
 * below it: they are its own server, not orphans (with BusyBox, `sh -c` execs the server, which
 * is then the wrapper's own child); so does a protected wrapper. Processes matching --match
 * below either are still runaway.
 * Linear: each process's "held" answer is computed once and memoised; cycles (bad data) stop.
 */
export function runawayTrees(procs: Proc[], rules: RunawayRules): RunawayTree[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const main = mainProcesses(procs);
  // Who vouches for the npx-cache processes below it: a main process that is itself a wrapper (not
  // an init shim, whose argv merely names the CMD: `docker-init -- node .../_npx/...`), and a
  // protected process that looks runaway (--protect '^npm exec @scope/server' keeps that wrapper's
  // own server too: killing the server would end the wrapper with it).
  const vouchers = new Set<number>();
  for (const pid of main) {
    const p = byPid.get(pid);
    if (p && !isInitShim(p) && looksRunaway(p, rules)) vouchers.add(pid);
  }
  for (const p of procs) if (!isZombie(p) && isProtected(p, rules.protect) && looksRunaway(p, rules)) vouchers.add(p.pid);
  /** Whether a voucher is above `p` (below it, not beside it: an orphan re-parented to an init shim is no CMD's server). Memoised along each walk. */
  const vouchedMemo = new Map<number, boolean>();
  const vouched = (p: Proc): boolean => {
    const path: number[] = [];
    let answer = false;
    for (let q = byPid.get(p.ppid), n = 0; q && n < 4096; q = q.ppid !== q.pid ? byPid.get(q.ppid) : undefined, n++) {
      if (vouchers.has(q.pid)) {
        answer = true;
        break;
      }
      const known = vouchedMemo.get(q.pid);
      if (known !== undefined) {
        answer = known;
        break;
      }
      path.push(q.pid);
    }
    vouchedMemo.set(p.pid, answer);
    for (const pid of path) vouchedMemo.set(pid, answer);
    return answer;
  };
  const byNpxOnly = (p: Proc) => !matchesPattern(p, rules);
  // A wrapper's own server is part of the main process: neither a tree nor holding one (a hub run
  // as `npx -y hub` spawns its sessions' `npm exec` trees from that server).
  const runaway = (p: Proc) => isRunaway(p, rules) && !main.has(p.pid) && !(vouchers.size > 0 && byNpxOnly(p) && vouched(p));
  const holds = (p: Proc) => runaway(p) && !isProtected(p, rules.protect);
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
      // A protected process keeps what runs below it (ladder.ts leaves it out of any tree above):
      // nothing above it holds its descendants, which are judged on their own.
      if (!parent || isProtected(parent, rules.protect)) break;
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
    if (!runaway(p) || isProtected(p, rules.protect) || isHeld(p)) continue;
    trees.push({ root: p, orphan: byNpxOnly(p) && !underNpm(p) });
  }
  return trees;
}
