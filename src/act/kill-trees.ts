// Signal a set of processes: SIGTERM, wait (polling, no fixed sleep) up to the grace period,
// SIGKILL what is left, wait again. Every signal is preceded by an identity check (identity.ts).
// Within each signal, deepest processes first (`node` before its `sh -c`, before `npm exec`), each
// level awaited before the next: a parent that is still alive reaps its child. Signalled all at
// once, the `sh`/`node` children outlive their `npm` by microseconds, are re-parented to PID 1,
// and a Node PID 1 (libuv reaps only the children it spawned) leaves them zombies for good, each
// still one unit of pids.current: measured 0 to 2 zombies per cleanup before this order.
// Preferred route: one exec of the container's own `kill` per level with every PID of it (BusyBox
// kill takes a list; once the deepest level is gone the others usually exit by themselves, so a
// 150-tree storm is 1 to 3 execs). Fallback: signal the host PIDs directly, for containers without
// `kill` or where exec cannot run (a full container can refuse runc's exec; Docker 20.10 with
// runc 1.1.5 on cgroup v1 still ran it in our tests), which is exactly when cleanup matters most.
import type { Engine } from '../engine/client.ts';
import { execInContainer } from '../engine/exec.ts';
import { execLiveness, hostLiveness, hostUnreaped, isValidPid, type Liveness, type Target } from './identity.ts';

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

export interface KillEnv {
  engine: Engine;
  containerId: string;
  cgroupDir: string | null;
  procRoot: string;
  execTimeoutMs: number;
  /** A monitor asked to stop: cut the grace wait short (SIGKILL is then not sent). */
  shouldStop?: () => boolean;
}

export interface SignalBatch {
  signal: 'SIGTERM' | 'SIGKILL';
  targets: Target[];
  via: 'exec' | 'host';
  /** Targets dropped before signalling because their PID now belongs to another process. */
  reused: Target[];
}

export interface KillReport {
  batches: SignalBatch[];
  /** Still alive after SIGKILL and the wait (uninterruptible sleep, or a PID we could not reach). */
  survivors: Target[];
}

export async function killAll(env: KillEnv, targets: Target[], graceMs: number, onBatch: (b: SignalBatch) => void): Promise<KillReport> {
  const batches: SignalBatch[] = [];
  const signalled: Target[] = [];
  let alive = await onlyAlive(env, targets);
  for (const [signal, waitMs] of [['SIGTERM', graceMs], ['SIGKILL', AFTER_KILL_WAIT_MS]] as const) {
    if (alive.live.length === 0 || env.shouldStop?.()) break;
    const deadline = Date.now() + waitMs;
    const phase = alive;
    let logged = false;
    for (const level of deepestFirst(phase.live)) {
      if (env.shouldStop?.()) break;
      // Re-check: a parent usually exits by itself once its child is gone (sh -c, npm exec).
      const now = logged ? await onlyAlive(env, level) : { live: level, reused: [] };
      if (now.live.length === 0) continue;
      const batch = await signalAll(env, signal, now.live, now.reused);
      signalled.push(...batch.targets);
      if (!logged) {
        // One line per signal for the whole set (the trees), with the route the first level took.
        const whole: SignalBatch = { signal, targets: phase.live, via: batch.via, reused: phase.reused.concat(batch.reused) };
        batches.push(whole);
        onBatch(whole);
        logged = true;
      }
      await waitUntilGone(env, batch.targets, deadline - Date.now());
    }
    alive = await waitUntilGone(env, phase.live, deadline - Date.now());
  }
  if (signalled.length > 0 && env.cgroupDir !== null) {
    // Every dead target, signalled or not: parents left on their own once their child was gone.
    const dead = targets.filter((t) => !alive.live.includes(t));
    await waitReaped(env, dead, REAP_WAIT_MS);
  }
  return { batches, survivors: alive.live };
}

/** Groups by depth in their victim's tree, deepest first; targets without a depth count as 0. */
export function deepestFirst(targets: Target[]): Target[][] {
  const byDepth = new Map<number, Target[]>();
  for (const t of targets) {
    const d = t.depth ?? 0;
    const level = byDepth.get(d);
    if (level) level.push(t);
    else byDepth.set(d, [t]);
  }
  return [...byDepth.entries()].sort((a, b) => b[0] - a[0]).map(([, level]) => level);
}

/** Polls the host's /proc until no dead target is an unreaped zombie, at most `waitMs`. */
async function waitReaped(env: KillEnv, targets: Target[], waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let left = await hostUnreaped(targets, env.procRoot);
  while (left.length > 0 && Date.now() < deadline && !env.shouldStop?.()) {
    await Bun.sleep(Math.min(HOST_POLL_MS, Math.max(1, deadline - Date.now())));
    left = await hostUnreaped(left, env.procRoot);
  }
}

async function liveness(env: KillEnv, targets: Target[]): Promise<Map<Target, Liveness>> {
  const canUseHost = env.cgroupDir !== null && targets.every((t) => t.hostPid !== undefined);
  if (canUseHost) return hostLiveness(targets, env.cgroupDir!, env.procRoot);
  return execLiveness(env.engine, env.containerId, targets, env.execTimeoutMs);
}

async function onlyAlive(env: KillEnv, targets: Target[]): Promise<{ live: Target[]; reused: Target[] }> {
  if (targets.length === 0) return { live: [], reused: [] };
  const state = await liveness(env, targets);
  return {
    live: targets.filter((t) => state.get(t) === 'alive'),
    reused: targets.filter((t) => state.get(t) === 'reused'),
  };
}

async function waitUntilGone(env: KillEnv, targets: Target[], waitMs: number): Promise<{ live: Target[]; reused: Target[] }> {
  const deadline = Date.now() + waitMs;
  const pollMs = env.cgroupDir !== null ? HOST_POLL_MS : EXEC_POLL_MS;
  let current = await onlyAlive(env, targets);
  while (current.live.length > 0 && Date.now() < deadline && !env.shouldStop?.()) {
    await Bun.sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    current = await onlyAlive(env, current.live);
  }
  return current;
}

async function signalAll(env: KillEnv, signal: 'SIGTERM' | 'SIGKILL', targets: Target[], reused: Target[]): Promise<SignalBatch> {
  const pids = targets.map((t) => t.pid).filter(isValidPid);
  try {
    const name = signal === 'SIGTERM' ? 'TERM' : 'KILL';
    // `kill -TERM p1 p2 …` works in BusyBox, toybox and procps (fixtures kill-TERM-two-pids).
    const res = await execInContainer(env.engine.docker, env.containerId, ['kill', `-${name}`, ...pids.map(String)], {
      timeoutMs: env.execTimeoutMs,
    });
    // 126/127: no kill in the image. Any other status: kill ran; a PID that exited meanwhile gives 1.
    if (res.exitCode !== 126 && res.exitCode !== 127 && res.exitCode !== null) {
      return { signal, targets, via: 'exec', reused };
    }
  } catch {
    // exec could not run (the container cannot fork, or the engine timed out): use the host.
  }
  if (env.cgroupDir === null) throw new Error(`cannot signal: exec failed and the container's cgroup is not readable here`);
  // Re-check right before signalling from the host: this path has no `kill` in between to fail safe.
  const state = await hostLiveness(targets, env.cgroupDir, env.procRoot);
  const live = targets.filter((t) => state.get(t) === 'alive' && isValidPid(t.hostPid));
  for (const t of live) {
    try {
      process.kill(t.hostPid!, signal);
    } catch {
      // ESRCH: it exited between the check and the signal; that is the outcome we wanted.
    }
  }
  return { signal, targets: live, via: 'host', reused: reused.concat(targets.filter((t) => state.get(t) === 'reused')) };
}
