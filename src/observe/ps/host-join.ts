// Pure: the local route's table. `ps` in the container says which processes there are; the host's
// /proc, read right after from the container's cgroup, says what each one is. ps prints no start
// time, so the two are joined by PID alone, and a PID reused between the two reads would carry the
// row's command line to the new process. Hence every live process takes everything from the host
// (parent, state, threads, start time, argv), even an empty argv ("[comm]", an exiting process):
// only a zombie, which has no argv on the host and is never a victim, keeps ps's rendering.
import type { Proc } from '../../types.ts';
import type { StatRecord } from '../proc-stat.ts';
import { mergeProcesses } from './merge.ts';
import type { PsRow } from './parse.ts';

/** The host's record of a process, in the container's PID namespace, as a /proc/<pid>/stat record. */
function toStatRecord(p: Proc): StatRecord {
  return { pid: p.pid, comm: p.comm ?? '', state: p.state ?? '?', ppid: p.ppid, threads: p.threads ?? 1, startTicks: p.startTicks ?? 0 };
}

/**
 * ps's rows that are one of the container's cgroup members (or its zombies), each with the host's
 * record of that PID (host PID, start time, threads; `host` is in the container's PID namespace).
 * A row without a host record is dropped: it is not the container's (a `--pid=container:X`
 * sidecar's process seen from X) or it exited between the two reads.
 */
export function joinWithHost(rows: PsRow[], host: Proc[], probeArgvs: string[][]): Proc[] {
  const procs = mergeProcesses(rows, host.map(toStatRecord), probeArgvs);
  const byPid = new Map(host.map((h) => [h.pid, h]));
  const out: Proc[] = [];
  for (const p of procs) {
    const h = byPid.get(p.pid);
    if (!h || h.hostPid === undefined) continue;
    // parent, state, comm, threads and start time are the host's already (mergeProcesses)
    p.hostPid = h.hostPid;
    // ps inside shows a nested namespace's init by its PID here, not as the 1 it is there
    if (h.nestedInit === true) p.nestedInit = true;
    // The kernel's argv is the exact one: every ps prints a newline inside an argument as a
    // space or '?', BusyBox without desktop cuts lines at 77 bytes, toybox's args cuts argv[0].
    // Zombies have no argv on the host ("[comm]"); ps's rendering stands for them.
    if (h.state !== 'Z') {
      p.command = h.command;
      delete p.truncated;
    }
    out.push(p);
  }
  return out;
}
