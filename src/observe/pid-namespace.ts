// Is a process of the container's cgroup subtree in the container's PID namespace (or one nested
// in it)? The cgroup alone does not say so below the container's own cgroup: `docker run
// --cgroup-parent=/docker/<X's ID>` puts container Y's cgroup under X's, with Y's processes in a
// PID namespace of their own, beside X's at the same depth. Their NSpid entries at X's depth are
// Y's PIDs 1, 2, ... which collide with X's. A nested namespace (docker:dind, sysbox, unshare -p)
// is X's: its processes are deeper, and going up their parents reaches a process at X's depth in
// X's namespace (the nested init was forked from there).
import { readFileSync, readlinkSync } from 'node:fs';
import { cgroupMembersSplit } from './cgroup.ts';
import { parseNsPid, parseStatusPpid } from './proc-stat.ts';

/** Parents walked up from a nested process: a guard against bad data (a parent loop), far beyond real process trees. */
const MAX_HOPS = 64;

/**
 * Whether host PID `hostPid` (read through `procRoot`) is in the PID namespace `namespace` (the
 * target of the init's /proc/<pid>/ns/pid, e.g. `pid:[4026532451]`, at depth `nsDepth`) or in
 * one nested in it. A process that exits meanwhile is not: nothing is claimed without a reading.
 */
export function inPidNamespace(hostPid: number, procRoot: string, nsDepth: number, namespace: string, memo = new Map<number, boolean>()): boolean {
  const walked: number[] = [];
  const answer = ((): boolean => {
    let pid = hostPid;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const known = memo.get(pid);
      if (known !== undefined) return known;
      walked.push(pid);
      let status: string;
      try {
        status = readFileSync(`${procRoot}/${pid}/status`, 'utf8');
      } catch {
        return false;
      }
      const nspids = parseNsPid(status);
      if (nspids === null || nspids.length < nsDepth) return false;
      if (nspids.length === nsDepth) {
        try {
          return readlinkSync(`${procRoot}/${pid}/ns/pid`) === namespace;
        } catch {
          return false;
        }
      }
      const ppid = parseStatusPpid(status);
      if (ppid === null || ppid <= 0 || ppid === pid) return false;
      pid = ppid;
    }
    return false;
  })();
  // every process walked through shares the answer: 5,000 processes of a docker:dind container
  // under one inner shim cost one walk each, not one per level above them
  for (const pid of walked) memo.set(pid, answer);
  return answer;
}

/**
 * The container's processes among its cgroup's members, as host PIDs: its own cgroup's, and those
 * of its sub-cgroups that are in its PID namespace (`namespace`; null when it cannot be read: then
 * none of theirs). In a shared PID namespace (pid=host, pid=container:X) the cgroup alone decides,
 * leaving out sub-cgroups named after other containers (cgroupMembersSplit's underNamed).
 * `only`: the processes the caller asks about (a kill's targets, checked every 25 ms while it
 * waits): the other sub-cgroup members are left out unchecked.
 */
export function containerMembers(cgroupDir: string, procRoot: string, nsDepth: number, namespace: string | null, shared: boolean, only?: ReadonlySet<number>): number[] {
  const { own, nested, underNamed } = cgroupMembersSplit(cgroupDir);
  const asked = (pids: number[]) => (only === undefined ? pids : pids.filter((pid) => only.has(pid)));
  // In a shared namespace, a sub-cgroup named after a container is another container's: left out.
  if (shared) return own.concat(asked(nested));
  const inSubCgroups = asked(nested);
  const inNamed = asked(underNamed);
  if (inSubCgroups.length === 0 && inNamed.length === 0) return own;
  if (namespace === null) return own;
  // A sub-cgroup named after a container is another container's (`--cgroup-parent` naming X's
  // cgroup). In a namespace of its own it fails the check below; run with `--pid=container:X` as
  // well, it is in X's namespace and would pass it, its init and all signalled as X's. Only what
  // runs in a namespace nested deeper there is X's (a docker:dind's inner containers, which the
  // inner engine names after their IDs too); an inner container run with `--pid=host` is left out
  // with the joiners (a cleanup missed, never a wrong kill).
  const memo = new Map<number, boolean>();
  const inOurs = (pid: number) => inPidNamespace(pid, procRoot, nsDepth, namespace, memo);
  return own.concat(
    inSubCgroups.filter(inOurs),
    inNamed.filter((pid) => deeperThan(pid, procRoot, nsDepth) && inOurs(pid)),
  );
}

/** Whether the process's NSpid line has more entries than `nsDepth`: it runs in a namespace nested below that depth. */
function deeperThan(hostPid: number, procRoot: string, nsDepth: number): boolean {
  try {
    const nspids = parseNsPid(readFileSync(`${procRoot}/${hostPid}/status`, 'utf8'));
    return nspids !== null && nspids.length > nsDepth;
  } catch {
    return false;
  }
}
