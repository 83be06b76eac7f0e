// Signal a set of processes: SIGTERM, wait (polling, no fixed sleep) up to the grace period,
// SIGKILL what is left, wait again. Every signal is preceded by an identity check (identity.ts).
// Within each signal, deepest processes first (`node` before its `sh -c`, before `npm exec`), each
// level awaited (dead, and reaped by its parent: CHILD_REAP_WAIT_MS) before the next: a parent
// that is still alive reaps its child. Signalled all at once, the `sh`/`node` children outlive
// their `npm` by microseconds, are re-parented to PID 1, and a Node PID 1 (libuv reaps only the
// children it spawned) leaves them zombies for good, each still one unit of pids.current:
// measured 0 to 2 zombies per cleanup before this order.
// Routes. Host (the default wherever the container's processes are visible here: layout.local):
// each process is checked and signalled from the host, through a pidfd where the kernel has one
// (identity.ts), so no exec is needed, which is exactly what a container at its pids limit cannot
// run. Exec (remote engines, containers whose processes are not visible here): one exec of the
// container's own `kill` per level with every PID of it (BusyBox kill takes a list; a 150-tree
// storm is 1 to 3 execs), as root. Never exec in a shared PID namespace: there `kill 17` is the
// host's (or the other container's) PID 17. A route that fails for some processes (EPERM, an exec
// refused) hands them to the other route where that one is allowed; what neither could signal is
// reported as not signalled, never as signalled.
import type { Engine } from '../engine/client.ts';
import { execInContainer, type ExecResult } from '../engine/exec.ts';
import { PROGRAM_MISSING_STATUS } from '../engine/exec-status.ts';
import { execRefused } from '../observe/processes.ts';
import {
  execLiveness,
  hostCheckable,
  hostLiveness,
  hostMembers,
  hostUnreaped,
  isValidPid,
  signalOnHost,
  type HostScope,
  type Liveness,
  type Target,
} from './identity.ts';

/** Poll every 25 ms on the host (a /proc read is ~10 µs), every 100 ms through exec (~50 ms each). */
export const HOST_POLL_MS = 25;
export const EXEC_POLL_MS = 100;
/** After SIGKILL the kernel needs a moment to tear down big processes; give up waiting after 3 s. */
export const AFTER_KILL_WAIT_MS = 3000;
/**
 * A dead victim stays a zombie until its parent reaps it, and a zombie still counts: ps lists it and
 * pids.current charges it. The parent is usually quick (Node/libuv reaps its children on SIGCHLD,
 * tini too; the test app polls every 50 ms), but an observation taken in between sees a container
 * that is, 50 ms later, healthy as unhealthy, and the ladder goes one step too far. Measured on
 * the integration workload: 8 processes and pids.current 50 right after a dedupe, 7 and 49 once
 * the app had reaped its npm; 74 instead of 71 after three trees. So wait for the reaping, but
 * briefly: orphans adopted by a PID 1 that never reaps stay zombies forever.
 */
export const REAP_WAIT_MS = 250;
/**
 * A dead child must be reaped by its parent before that parent is signalled: a parent killed
 * first hands the zombie to PID 1, and a PID 1 that reaps only its own children (Node, the test
 * app's default) keeps it for good, one unit of pids.current for the container's life. "Dead"
 * comes early: a multi-threaded `node` leaves cgroup.procs, and its leader shows Z, while its
 * other threads are still exiting, before its `sh` is even told. Signalled at once, a `sh` lost
 * that race now and then (test/integration/cleanup.test.ts, a respawning app: "1 or 2 zombies;
 * both happen"). The parent normally reaps within a millisecond; a parent that does not within
 * 1 s (stopped, or busy) is signalled anyway.
 */
export const CHILD_REAP_WAIT_MS = 1000;

export interface KillEnv {
  engine: Engine;
  containerId: string;
  /** The container's cgroup on this host: set only when its processes are visible here (layout.local). */
  cgroupDir: string | null;
  /** The depth of the container init's PID namespace (Layout.nsDepth). */
  nsDepth: number;
  /** Layout.pidNamespace (null when unknown). */
  pidNamespace: string | null;
  /** Layout.sharedPidNamespace: the cgroup alone says which processes are the container's. */
  sharedPidNamespace: boolean;
  procRoot: string;
  /** Whether host PIDs may be signalled from here (Layout.hostSignals); else cgroupDir serves reads only. */
  hostSignals: boolean;
  /** Whether the container's own `kill` may be used: never in a shared PID namespace. */
  execAllowed: boolean;
  execTimeoutMs: number;
  /** Run the selection, the identity checks and the choice of route; skip only the syscall. */
  dryRun: boolean;
  /** A monitor asked to stop: cut the grace wait short (SIGKILL is then not sent). */
  shouldStop?: () => boolean;
  /** How long a level waits for its dead to be reaped by the next level's processes (default CHILD_REAP_WAIT_MS). */
  childReapWaitMs?: number;
}

/** One route at one tree level for one signal: exactly what was signalled, and what was not. */
export interface SignalBatch {
  signal: 'SIGTERM' | 'SIGKILL';
  via: 'exec' | 'host';
  /** Depth in the victims' trees (0 = the matching roots). */
  level: number;
  /** Signalled (in a dry run: would have been). */
  targets: Target[];
  /** Found exited (or dead, unreaped) right before the signal. */
  gone: Target[];
  /** Dropped because their PID now belongs to another process. */
  reused: Target[];
  /** Not signalled by this route (EPERM, exec refused, no kill): handed to the other route if allowed. */
  failed: Target[];
  /** What failed, when something did. */
  failure?: string;
  /** Host route: whether the signals went through pidfds. */
  pidfd?: boolean;
}

export interface KillReport {
  batches: SignalBatch[];
  /** Signalled, and still alive (not a zombie) after SIGKILL and the wait. */
  survivors: Target[];
  /** Alive, but no route could signal them; each with the last failure. */
  notSignalled: Target[];
}

export async function killAll(env: KillEnv, targets: Target[], graceMs: number, onBatch: (b: SignalBatch) => void): Promise<KillReport> {
  const batches: SignalBatch[] = [];
  const signalled = new Set<Target>();
  const failed = new Set<Target>();
  const state = { execBroken: false };
  let alive = targets;
  for (const [signal, waitMs] of [['SIGTERM', graceMs], ['SIGKILL', AFTER_KILL_WAIT_MS]] as const) {
    if (alive.length === 0 || env.shouldStop?.()) break;
    const deadline = Date.now() + waitMs;
    for (const [level, members] of deepestFirst(alive)) {
      if (env.shouldStop?.()) break;
      const done = await signalLevel(env, signal, level, members, state);
      for (const b of done) {
        batches.push(b);
        // A level whose processes had all exited by themselves (an npm once its sh was gone) is
        // still logged: each victim appears in a line, as signalled, gone, reused or not signalled.
        if (b.targets.length + b.failed.length + b.gone.length + b.reused.length > 0) onBatch(b);
        for (const t of b.targets) signalled.add(t);
      }
      const lastFailed = done.at(-1)?.failed ?? [];
      for (const t of lastFailed) failed.add(t);
      if (env.dryRun) continue;
      const signalledHere = done.flatMap((b) => b.targets);
      const stillAlive = new Set(await waitUntilGone(env, signalledHere, deadline - Date.now()));
      // the parents are the next level's targets
      const parents = alive.filter((t) => (t.depth ?? 0) === level - 1);
      if (env.cgroupDir !== null && parents.length > 0) {
        const dead = members.filter((t) => !stillAlive.has(t) && !failed.has(t));
        await waitReaped(env, dead, env.childReapWaitMs ?? CHILD_REAP_WAIT_MS, parents);
      }
    }
    // A dry run reports as if every target died on SIGTERM: what a real run sends next depends
    // on what the processes do with the SIGTERM, which a dry run cannot know.
    if (env.dryRun) return { batches, survivors: [], notSignalled: [...failed] };
    alive = await waitUntilGone(env, alive.filter((t) => !failed.has(t)), deadline - Date.now());
  }
  if (signalled.size > 0 && env.cgroupDir !== null) {
    // Every dead target, signalled or not: parents left on their own once their child was gone.
    const stillAlive = new Set(alive);
    const dead = targets.filter((t) => !stillAlive.has(t) && !failed.has(t));
    await waitReaped(env, dead, REAP_WAIT_MS);
  }
  return { batches, survivors: alive.filter((t) => signalled.has(t)), notSignalled: [...failed].filter((t) => !signalled.has(t)) };
}

/** Groups by depth in their victim's tree, deepest first; targets without a depth count as 0. */
export function deepestFirst(targets: Target[]): [number, Target[]][] {
  const byDepth = new Map<number, Target[]>();
  for (const t of targets) {
    const d = t.depth ?? 0;
    const level = byDepth.get(d);
    if (level) level.push(t);
    else byDepth.set(d, [t]);
  }
  return [...byDepth.entries()].sort((a, b) => b[0] - a[0]);
}

function hostScope(env: KillEnv): HostScope | null {
  return env.cgroupDir === null
    ? null
    : { cgroupDir: env.cgroupDir, nsDepth: env.nsDepth, procRoot: env.procRoot, pidNamespace: env.pidNamespace, sharedPidNamespace: env.sharedPidNamespace };
}

/** The host route first where it can check the targets, the exec route for the rest or as fallback. */
async function signalLevel(
  env: KillEnv,
  signal: 'SIGTERM' | 'SIGKILL',
  level: number,
  targets: Target[],
  state: { execBroken: boolean },
): Promise<SignalBatch[]> {
  const out: SignalBatch[] = [];
  let rest = targets;
  const scope = hostScope(env);
  if (scope !== null && env.hostSignals && targets.every(hostCheckable)) {
    const b = viaHost(env, scope, signal, level, targets);
    out.push(b);
    rest = b.failed;
  }
  if (rest.length === 0) return out;
  if (!env.execAllowed || state.execBroken) {
    const why = !env.execAllowed
      ? `shared PID namespace: a kill inside the container would reach other processes${env.hostSignals ? '' : ", and this host's PIDs are not signalable from pidwarden's PID namespace (run it with pid: host)"}`
      : 'exec refused earlier in this cleanup';
    if (out.length === 0) out.push(emptyBatch(signal, 'exec', level, rest, why));
    else out[out.length - 1]!.failure ??= why;
    return out;
  }
  const b = await viaExec(env, signal, level, rest);
  // Exec itself failed (refused at the pids limit, timed out, no kill): the next level's exec would too.
  if (b.targets.length === 0 && b.failed.length > 0 && !b.failure?.startsWith('kill failed')) state.execBroken = true;
  out.push(b);
  return out;
}

function emptyBatch(signal: 'SIGTERM' | 'SIGKILL', via: 'exec' | 'host', level: number, failed: Target[], failure: string): SignalBatch {
  return { signal, via, level, targets: [], gone: [], reused: [], failed, failure };
}

function viaHost(env: KillEnv, scope: HostScope, signal: 'SIGTERM' | 'SIGKILL', level: number, targets: Target[]): SignalBatch {
  // Read once per level: a process never leaves its cgroup except by exiting (or an
  // administrator moving it); the start time checked after it is what pins the identity.
  const members = hostMembers(scope, targets);
  const b: SignalBatch = { signal, via: 'host', level, targets: [], gone: [], reused: [], failed: [] };
  for (const t of targets) {
    const o = signalOnHost(t, signal, scope, members, env.dryRun);
    b.pidfd = o.pidfd;
    if (o.result === 'signalled') b.targets.push(t);
    else if (o.result === 'gone') b.gone.push(t);
    else if (o.result === 'reused') b.reused.push(t);
    else if (o.result === 'failed') {
      b.failed.push(t);
      b.failure = `host signal failed: ${o.why}`;
    }
  }
  return b;
}

async function viaExec(env: KillEnv, signal: 'SIGTERM' | 'SIGKILL', level: number, targets: Target[]): Promise<SignalBatch> {
  let state: Map<Target, Liveness>;
  try {
    state = await execLiveness(env.engine, env.containerId, targets, env.execTimeoutMs);
  } catch (e) {
    return emptyBatch(signal, 'exec', level, targets, `identity check by exec failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const live = targets.filter((t) => state.get(t) === 'alive' && isValidPid(t.pid));
  const b: SignalBatch = {
    signal,
    via: 'exec',
    level,
    targets: [],
    gone: targets.filter((t) => state.get(t) === 'gone'),
    reused: targets.filter((t) => state.get(t) === 'reused'),
    failed: [],
  };
  if (live.length === 0) return b;
  if (env.dryRun) return { ...b, targets: live };
  let res: ExecResult;
  try {
    // `kill -TERM p1 p2 …` works in BusyBox, toybox and procps (fixtures kill-TERM-two-pids).
    res = await execInContainer(env.engine.docker, env.containerId, ['kill', `-${signal.slice(3)}`, ...live.map((t) => String(t.pid))], {
      timeoutMs: env.execTimeoutMs,
    });
  } catch (e) {
    return { ...b, failed: live, failure: e instanceof Error ? e.message : String(e) };
  }
  if (execRefused(res)) return { ...b, failed: live, failure: `exec refused by the engine (pids limit?): ${oneLine(res)}` };
  if (res.exitCode === null || PROGRAM_MISSING_STATUS.has(res.exitCode)) {
    return { ...b, failed: live, failure: `no kill in the container (exit ${res.exitCode}): ${oneLine(res)}` };
  }
  if (res.exitCode === 0) return { ...b, targets: live };
  return { ...b, ...judgeKillErrors(live, res.stderr + res.stdout), gone: b.gone.concat(goneByKill(live, res.stderr + res.stdout)) };
}

function oneLine(r: ExecResult): string {
  return (r.stdout + r.stderr).trim().split('\n')[0]!.slice(0, 200);
}

/**
 * A `kill` that exits non-zero names the PIDs it could not signal, one line each: BusyBox "kill:
 * can't kill pid 12: Operation not permitted", procps "kill: (12) - No such process", toybox
 * "kill: 12: No such process". "No such process" is gone; any other complaint about a PID is a
 * failure. A non-zero exit that names no PID fails them all: it cannot be told which got through.
 */
export function judgeKillErrors(live: Target[], text: string): { targets: Target[]; failed: Target[]; failure?: string } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const aboutPid = linesByPid(lines);
  const about = (t: Target) => aboutPid.get(t.pid);
  const named = live.filter((t) => about(t) !== undefined);
  if (named.length === 0) return { targets: [], failed: live, failure: `kill failed: ${lines[0] ?? 'non-zero exit'}` };
  const failed = named.filter((t) => !/no such process/i.test(about(t)!));
  const targets = live.filter((t) => about(t) === undefined);
  return { targets, failed, ...(failed.length > 0 ? { failure: `kill failed: ${about(failed[0]!)!.trim()}` } : {}) };
}

/**
 * The first line naming each number: one pass over the lines, not one per target (a refused kill
 * of a 1,600-tree level prints 1,600 lines).
 */
function linesByPid(lines: string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines) {
    for (const m of l.matchAll(/\d+/g)) {
      const n = Number(m[0]);
      if (!out.has(n)) out.set(n, l);
    }
  }
  return out;
}

function goneByKill(live: Target[], text: string): Target[] {
  const gone = linesByPid(text.split('\n').filter((l) => /no such process/i.test(l)));
  return live.filter((t) => gone.has(t.pid));
}

/**
 * Polls the host's /proc until no dead target is an unreaped zombie, at most `waitMs`; with
 * `parents`, only zombies whose parent is one of those processes count.
 */
async function waitReaped(env: KillEnv, targets: Target[], waitMs: number, parents?: Target[]): Promise<void> {
  const parentPids = parents && new Set(parents.map((t) => t.hostPid).filter((h): h is number => h !== undefined));
  if (targets.length === 0 || parentPids?.size === 0) return;
  const deadline = Date.now() + waitMs;
  let left = hostUnreaped(targets, env.procRoot, parentPids);
  while (left.length > 0 && Date.now() < deadline && !env.shouldStop?.()) {
    await Bun.sleep(Math.min(HOST_POLL_MS, Math.max(1, deadline - Date.now())));
    left = hostUnreaped(left, env.procRoot, parentPids);
  }
}

async function liveness(env: KillEnv, targets: Target[]): Promise<Map<Target, Liveness>> {
  const scope = hostScope(env);
  if (scope !== null && targets.every(hostCheckable)) return hostLiveness(targets, scope);
  return execLiveness(env.engine, env.containerId, targets, env.execTimeoutMs);
}

/** Waits until none of the targets is alive (zombies are dead), at most `waitMs`; returns those still alive. */
async function waitUntilGone(env: KillEnv, targets: Target[], waitMs: number): Promise<Target[]> {
  if (targets.length === 0) return [];
  const deadline = Date.now() + waitMs;
  const pollMs = env.cgroupDir !== null ? HOST_POLL_MS : EXEC_POLL_MS;
  const stillAlive = async (ts: Target[]) => {
    try {
      const state = await liveness(env, ts);
      return ts.filter((t) => state.get(t) === 'alive');
    } catch {
      return ts; // could not look (exec failed): assume alive, the caller decides
    }
  };
  let current = await stillAlive(targets);
  while (current.length > 0 && Date.now() < deadline && !env.shouldStop?.()) {
    await Bun.sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    current = await stillAlive(current);
  }
  return current;
}

/**
 * The fields of one `kill` log line: exactly the processes this route signalled at this level;
 * those found gone or reused and those it could not signal listed as such, by PID in the container.
 */
export function killLineFields(b: SignalBatch): Record<string, unknown> {
  const hostPids = b.targets.map((t) => t.hostPid).filter((h): h is number => h !== undefined);
  const pidsOf = (ts: Target[]) => ts.map((t) => t.pid);
  const hostPidsOf = (ts: Target[], key: string) => {
    const hs = ts.map((t) => t.hostPid).filter((h): h is number => h !== undefined);
    return hs.length === ts.length ? { [key]: hs } : {};
  };
  return {
    signal: b.signal,
    pids: pidsOf(b.targets),
    ...(hostPids.length === b.targets.length && hostPids.length > 0 ? { hostPids } : {}),
    commands: b.targets.map((t) => t.command),
    via: b.via,
    depth: b.level,
    ...(b.pidfd !== undefined ? { pidfd: b.pidfd } : {}),
    ...(b.gone.length > 0 ? { gonePids: pidsOf(b.gone), ...hostPidsOf(b.gone, 'goneHostPids'), goneCommands: b.gone.map((t) => t.command) } : {}),
    ...(b.reused.length > 0 ? { skippedReusedPids: pidsOf(b.reused) } : {}),
    ...(b.failed.length > 0 ? { notSignalledPids: pidsOf(b.failed), failure: b.failure } : {}),
  };
}
