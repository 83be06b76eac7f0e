// The container's process table. First choice: `ps` inside the container (the container's own
// view, and the only one a remote engine allows), then ONE `cat` of every /proc/<pid>/stat for
// start times, states and thread counts. Fallback: the host's /proc for the PIDs in the container's
// cgroup, when the container has no ps, exec fails (a full container cannot fork), or times out.
import type { Engine } from '../engine/client.ts';
import { execInContainer, ExecFailedError } from '../engine/exec.ts';
import type { Proc, ProcessTable } from '../types.ts';
import { containerHostPids, readHostProcs } from './host-proc.ts';
import { parseProcStats, type StatRecord } from './proc-stat.ts';
import { PS_ATTEMPTS, PS_EXEC_ENV, assessPsAttempt } from './ps/argv.ts';
import type { ParsedPs } from './ps/parse.ts';
import { mergeProcesses } from './ps/merge.ts';

/** Exit statuses from runc when the program is not there or can't be run (Docker's 126/127). */
const PROGRAM_MISSING = new Set([126, 127]);

export interface ProbeOptions {
  execTimeoutMs: number;
  procRoot: string;
  /** Skip ps and read the host's /proc directly (pidwarden's fast path when the engine is local). */
  preferHost?: boolean;
}

export async function readProcesses(
  engine: Engine,
  containerId: string,
  initPid: number,
  cgroupDir: string | null,
  opts: ProbeOptions,
): Promise<ProcessTable> {
  let reason: string | undefined;
  if (!opts.preferHost || !cgroupDir) {
    try {
      // Locally the host's /proc gives start times, states and host PIDs for free, which saves
      // the `cat` exec (~50 ms of runc CPU each: the dominant cost of an audit).
      const hostView = cgroupDir
        ? async () => readHostProcs(await containerHostPids(cgroupDir, initPid, opts.procRoot), opts.procRoot)
        : null;
      const viaPs = await readViaPs(engine, containerId, opts.execTimeoutMs, hostView);
      if (viaPs) return viaPs;
      reason = 'no usable ps in the container';
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
  }
  if (cgroupDir) {
    const procs = await readHostProcs(await containerHostPids(cgroupDir, initPid, opts.procRoot), opts.procRoot);
    return { procs, source: 'host-proc', ...(reason ? { fallbackReason: reason } : {}) };
  }
  throw new ExecFailedError(`${reason ?? 'ps not run'}; and the container's cgroup is not readable from this host`);
}

async function readViaPs(
  engine: Engine,
  containerId: string,
  timeoutMs: number,
  hostView: (() => Promise<Proc[]>) | null,
): Promise<ProcessTable | null> {
  const probeArgvs: string[][] = [];
  let parsed: ParsedPs | null = null;
  // The ladder decides the next attempt from each answer (argv.ts): 1 exec for BusyBox desktop
  // and procps, 2 for toybox and the option-less BusyBox. At most one try per attempt.
  for (let attempt: number | null = 0, tries = 0; attempt !== null && tries < PS_ATTEMPTS.length; tries++) {
    const argv = [...PS_ATTEMPTS[attempt]!];
    const result = await execInContainer(engine.docker, containerId, argv, { timeoutMs, env: [...PS_EXEC_ENV] });
    probeArgvs.push(argv);
    const a = assessPsAttempt(attempt, result);
    if (a.verdict === 'accept') {
      parsed = a.parsed;
      break;
    }
    attempt = a.verdict === 'next' ? a.next : null;
  }
  if (!parsed) return null;
  if (hostView) {
    const host = await hostView();
    const procs = mergeProcesses(parsed.rows, host.map(toStatRecord), probeArgvs);
    attachHostPids(procs, host);
    return { procs, source: 'ps', flavor: parsed.flavor };
  }
  const pids = parsed.rows.map((r) => r.pid);
  // One exec for every start time: `cat` takes many files and goes on past vanished ones (exit 1).
  const catArgv = ['cat', ...pids.map((p) => `/proc/${p}/stat`)];
  let statText = '';
  try {
    const cat = await execInContainer(engine.docker, containerId, catArgv, { timeoutMs, env: [...PS_EXEC_ENV] });
    if (cat.exitCode === null || !PROGRAM_MISSING.has(cat.exitCode)) statText = cat.stdout;
  } catch {
    // Without start times ps's view still stands; "oldest" falls back to PID order.
  }
  probeArgvs.push(catArgv);
  const procs = mergeProcesses(parsed.rows, parseProcStats(statText), probeArgvs);
  return { procs, source: 'ps', flavor: parsed.flavor };
}

/** The host's record of a process, in the container's PID namespace, as a /proc/<pid>/stat record. */
function toStatRecord(p: Proc): StatRecord {
  return { pid: p.pid, comm: p.comm ?? '', state: p.state ?? '?', ppid: p.ppid, threads: p.threads ?? 1, startTicks: p.startTicks ?? 0 };
}

/**
 * Joins ps's view with the host's by (PID in the container, start time): the same identity check
 * the kill path uses, so a PID reused between the two reads is never attached to the wrong process.
 */
function attachHostPids(procs: Proc[], host: Proc[]): void {
  const byPid = new Map(host.map((h) => [h.pid, h]));
  for (const p of procs) {
    const h = byPid.get(p.pid);
    if (h && h.hostPid !== undefined && (p.startTicks === undefined || p.startTicks === h.startTicks)) {
      p.hostPid = h.hostPid;
      if (p.startTicks === undefined) p.startTicks = h.startTicks;
      if (p.threads === undefined) p.threads = h.threads;
      // The kernel's argv is the exact one: every ps prints a newline inside an argument as a
      // space or '?', BusyBox without desktop cuts lines at 77 bytes, toybox's args cuts argv[0].
      // Zombies have no argv on the host ("[comm]"); ps's rendering stands for them.
      if (h.state !== 'Z' && h.command !== `[${h.comm}]`) {
        p.command = h.command;
        delete p.truncated;
      }
    }
  }
}
