// "Is this still the process we observed?" A PID alone is not an identity: once a process exits its
// PID can be handed to a new one. (PID in the container, start time in ticks since boot) is; on the
// host we also insist that the PID is still in the container's cgroup and maps to the same
// namespace PID, so nothing outside the selected container can ever be signalled.
import type { Engine } from '../engine/client.ts';
import { execInContainer } from '../engine/exec.ts';
import { listCgroupProcs } from '../observe/cgroup.ts';
import { readText } from '../observe/fs.ts';
import { parseNsPid, parseProcStats } from '../observe/proc-stat.ts';
import type { Proc } from '../types.ts';

export interface Target {
  pid: number;
  hostPid?: number;
  startTicks?: number;
  command: string;
  /** Depth in its victim's tree (0 = the matching root): deeper ones are signalled first. */
  depth?: number;
}

export type Liveness = 'alive' | 'gone' | 'reused';

export function isValidPid(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 && n <= 4_194_304; // PID_MAX_LIMIT on 64-bit
}

export function toTarget(p: Proc, depth?: number): Target {
  return { pid: p.pid, hostPid: p.hostPid, startTicks: p.startTicks, command: p.command, ...(depth === undefined ? {} : { depth }) };
}

/** Host view: membership in the cgroup, NSpid, start time. Zombies count as gone (they are dead). */
export async function hostLiveness(targets: Target[], cgroupDir: string, procRoot: string): Promise<Map<Target, Liveness>> {
  const members = new Set(listCgroupProcs(cgroupDir));
  const out = new Map<Target, Liveness>();
  await Promise.all(
    targets.map(async (t) => {
      if (!isValidPid(t.hostPid) || !members.has(t.hostPid)) {
        out.set(t, t.hostPid === undefined ? 'reused' : 'gone');
        return;
      }
      const [statText, status] = await Promise.all([
        readText(`${procRoot}/${t.hostPid}/stat`),
        readText(`${procRoot}/${t.hostPid}/status`),
      ]);
      const stat = statText ? parseProcStats(statText)[0] : undefined;
      if (!stat) return void out.set(t, 'gone');
      const ns = status ? parseNsPid(status) : null;
      const nsPid = ns && ns.length > 0 ? ns[ns.length - 1] : t.hostPid;
      if (stat.startTicks !== t.startTicks || nsPid !== t.pid) return void out.set(t, 'reused');
      out.set(t, stat.state === 'Z' || stat.state === 'X' ? 'gone' : 'alive');
    }),
  );
  return out;
}

/** Container view, for remote engines: one `cat` of the targets' stat files. */
export async function execLiveness(engine: Engine, containerId: string, targets: Target[], timeoutMs: number): Promise<Map<Target, Liveness>> {
  const argv = ['cat', ...targets.map((t) => `/proc/${t.pid}/stat`)];
  const res = await execInContainer(engine.docker, containerId, argv, { timeoutMs });
  if (res.exitCode === 126 || res.exitCode === 127) throw new Error('no cat in the container');
  const byPid = new Map(parseProcStats(res.stdout).map((s) => [s.pid, s]));
  const out = new Map<Target, Liveness>();
  for (const t of targets) {
    const s = byPid.get(t.pid);
    if (!s) out.set(t, 'gone');
    else if (t.startTicks === undefined || s.startTicks !== t.startTicks) out.set(t, 'reused');
    else out.set(t, s.state === 'Z' || s.state === 'X' ? 'gone' : 'alive');
  }
  return out;
}

/**
 * Targets that exited but are still zombies (not yet reaped by their parent), by host /proc: same
 * PID and start time, state Z. Used only to wait for the reaping, never to decide a kill.
 */
export async function hostUnreaped(targets: Target[], procRoot: string): Promise<Target[]> {
  const states = await Promise.all(
    targets.map(async (t) => {
      if (!isValidPid(t.hostPid) || t.startTicks === undefined) return false;
      const text = await readText(`${procRoot}/${t.hostPid}/stat`);
      const stat = text ? parseProcStats(text)[0] : undefined;
      return stat !== undefined && stat.startTicks === t.startTicks && stat.state === 'Z';
    }),
  );
  return targets.filter((_, i) => states[i]);
}
