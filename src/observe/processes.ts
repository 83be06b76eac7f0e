// The container's process table. First choice: `ps` inside the container (the container's own
// view, and the only one a remote engine allows), then ONE `cat` of every /proc/<pid>/stat for
// start times, states and thread counts. Locally the table is the container's cgroup members read
// from the host's /proc (ps's rows are kept only where they are one of them, by PID and start
// time), and it is read from the host alone when the container has no ps, exec fails or is
// refused (a full container cannot fork runc's init), the container is at its pids limit, or it
// shares a PID namespace (pid=host, pid=container:X: ps there lists other processes too).
import type { Engine } from '../engine/client.ts';
import { execInContainer, ExecFailedError, type ExecResult } from '../engine/exec.ts';
import { PROGRAM_MISSING_STATUS } from '../engine/exec-status.ts';
import type { Layout, PidsReading, Proc, ProcessTable } from '../types.ts';
import { containerHostPids, readHostProcs, type ZombiesByNamespace } from './host-proc.ts';
import { parseProcStats } from './proc-stat.ts';
import { PS_ATTEMPTS, PS_EXEC_ENV, assessPsAttempt } from './ps/argv.ts';
import { readNestedInits } from './exec-nested-inits.ts';
import type { ParsedPs } from './ps/parse.ts';
import { mergeProcesses } from './ps/merge.ts';
import { joinWithHost } from './ps/host-join.ts';

/**
 * The engine's words when it cannot start an exec's process at all, whatever the program: runc
 * forks its init inside the container's cgroup, and at pids.max the fork fails. Measured on
 * Docker 26 with runc (cgroup v2): exit 126, "OCI runtime exec failed: ... read init-p:
 * connection reset by peer"; older runc says "resource temporarily unavailable" (EAGAIN from
 * fork) or "fork/exec". Every further exec then fails the same way and costs a failed fork.
 */
const EXEC_REFUSED = /read init-p|resource temporarily unavailable|fork\/exec|cannot fork|connection reset by peer/i;

export function execRefused(r: ExecResult): boolean {
  return r.exitCode === 126 && EXEC_REFUSED.test(r.stdout + r.stderr);
}

export interface ProbeOptions {
  execTimeoutMs: number;
  procRoot: string;
  /** Skip ps and read the host's /proc directly (pidwarden's fast path when the engine is local). */
  preferHost?: boolean;
  /** The host's zombies, scanned once for many containers (host-proc.ts, sharedZombieScan). */
  zombies?: () => Promise<ZombiesByNamespace>;
}

/** Where the host view is: set only when layout.local (locality.ts). */
export interface HostView {
  cgroupDir: string;
  layout: Layout;
  pids: PidsReading;
}

export async function readProcesses(
  engine: Engine,
  containerId: string,
  host: HostView | null,
  opts: ProbeOptions,
): Promise<ProcessTable> {
  const hostProcs = host
    ? async () =>
        readHostProcs(
          await containerHostPids(host.cgroupDir, opts.procRoot, host.layout, opts.zombies),
          opts.procRoot,
          host.layout.nsDepth,
        )
    : null;
  let reason = host ? hostFirstReason(host) : undefined;
  if (!readsHostOnly(host, opts)) {
    const viaPs = await readViaPs(engine, containerId, opts.execTimeoutMs, hostProcs);
    if ('table' in viaPs) return viaPs.table;
    reason = viaPs.reason;
  }
  if (hostProcs) return { procs: await hostProcs(), source: 'host-proc', ...(reason ? { fallbackReason: reason } : {}) };
  throw new ExecFailedError(`${reason ?? 'ps not run'}; and the container's cgroup is not readable from this host`);
}

/**
 * Whether readProcesses will read the host's /proc alone, with no exec into the container: then
 * nothing it does runs inside the container's cgroup, and its CPU figure can be read meanwhile.
 */
export function readsHostOnly(host: HostView | null, opts: Pick<ProbeOptions, 'preferHost'>): boolean {
  return host !== null && (opts.preferHost === true || hostFirstReason(host) !== undefined);
}

/** Why not even try ps, when the host view is there. */
function hostFirstReason(host: HostView): string | undefined {
  if (host.layout.sharedPidNamespace) {
    return `shared PID namespace (${host.layout.sharedPidWhy}): ps there lists processes outside the container; its cgroup's members are its processes`;
  }
  const { current, max } = host.pids;
  if (current !== null && max !== null && current >= max) {
    return `at the pids limit (${current}/${max}): an exec cannot fork there, read from the host`;
  }
  return undefined;
}

async function readViaPs(
  engine: Engine,
  containerId: string,
  timeoutMs: number,
  hostView: (() => Promise<Proc[]>) | null,
): Promise<{ table: ProcessTable } | { reason: string }> {
  const probeArgvs: string[][] = [];
  let parsed: ParsedPs | null = null;
  let why = 'no usable ps in the container';
  // The ladder decides the next attempt from each answer (argv.ts): 1 exec for BusyBox desktop
  // and procps, 2 for toybox and the option-less BusyBox. At most one try per attempt.
  for (let attempt: number | null = 0, tries = 0; attempt !== null && tries < PS_ATTEMPTS.length; tries++) {
    const argv = [...PS_ATTEMPTS[attempt]!];
    let result: ExecResult;
    try {
      result = await execInContainer(engine.docker, containerId, argv, { timeoutMs, env: [...PS_EXEC_ENV] });
    } catch (e) {
      return { reason: e instanceof Error ? e.message : String(e) };
    }
    // The first refused exec says it all: the others would be refused too, each a failed fork.
    if (execRefused(result)) return { reason: `exec refused by the engine (pids limit?): ${firstLine(result)}` };
    probeArgvs.push(argv);
    const a = assessPsAttempt(attempt, result);
    if (a.verdict === 'accept') {
      parsed = a.parsed;
      break;
    }
    if (a.verdict === 'give-up') why = a.why === 'no ps in the container' ? a.why : `ps output unusable: ${a.why}`;
    attempt = a.verdict === 'next' ? a.next : null;
  }
  if (!parsed) return { reason: why };
  if (hostView) {
    const host = await hostView();
    return { table: { procs: joinWithHost(parsed.rows, host, probeArgvs), source: 'ps', flavor: parsed.flavor } };
  }
  const pids = parsed.rows.map((r) => r.pid);
  // One exec for every start time: `cat` takes many files and goes on past vanished ones (exit 1).
  const catArgv = ['cat', ...pids.map((p) => `/proc/${p}/stat`)];
  let statText = '';
  try {
    const cat = await execInContainer(engine.docker, containerId, catArgv, { timeoutMs, env: [...PS_EXEC_ENV] });
    if (cat.exitCode === null || !PROGRAM_MISSING_STATUS.has(cat.exitCode)) statText = cat.stdout;
  } catch {
    // Without start times ps's view still stands; "oldest" falls back to PID order.
  }
  probeArgvs.push(catArgv);
  const procs = mergeProcesses(parsed.rows, parseProcStats(statText), probeArgvs);
  // Which of them is PID 1 of a namespace nested inside (src/observe/exec-nested-inits.ts): not
  // known, no table to act on.
  let nested: Awaited<ReturnType<typeof readNestedInits>>;
  try {
    nested = await readNestedInits(engine, containerId, procs.map((p) => p.pid), timeoutMs, [...PS_EXEC_ENV]);
  } catch (e) {
    return { reason: `cannot tell nested PID namespaces' inits: ${e instanceof Error ? e.message : String(e)}` };
  }
  for (const p of procs) if (nested.inits.has(p.pid)) p.nestedInit = true;
  return { table: { procs, source: 'ps', flavor: parsed.flavor } };
}

function firstLine(r: ExecResult): string {
  return (r.stdout + r.stderr).trim().split('\n')[0]!.slice(0, 200);
}
