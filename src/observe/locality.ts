// Is the engine's host this host, for this container? A unix socket is no proof: Docker Desktop,
// colima, podman machine, an ssh-forwarded socket and rootless engines without a cgroup per
// container all hand out State.Pid values that mean something else (or nothing) here. The host's
// /proc and host signals are used for a container only when all three hold: its init PID is
// visible here, that process was forked between the container's creation and its start as the
// engine records them (src/observe/layout.ts: startMatches), and it sits in a cgroup named after
// the container's ID (findPidsCgroup finds none otherwise). And a fourth, for the PIDs of our own
// reader: --proc-root's PID numbers are our PID namespace's (src/observe/proc-root.ts).
import { readlink } from 'node:fs/promises';
import type { Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import { pidNamespaceJoiners } from '../engine/pid-joiners.ts';
import type { Layout } from '../types.ts';
import type { ContainerCgroup } from './cgroup.ts';
import { readText } from './fs.ts';
import { readBootTimeSeconds, startedAtMs } from './boot-time.ts';
import { sharedPidNamespaceWhy, startMatches } from './layout.ts';
import { parseNsPid, parseProcStats } from './proc-stat.ts';
import { procRootIsOurs } from './proc-root.ts';

export async function readLayout(engine: Engine, info: ContainerInfo, procRoot: string, cgroup: ContainerCgroup | null): Promise<Layout> {
  const pidMode = info.pidMode;
  // Without the host's view the engine's PidMode is the only witness; with it, the kernel's too (below).
  const engineWhy = sharedPidNamespaceWhy(pidMode, null);
  const remote = async (remoteReason: string, knownWhy = engineWhy): Promise<Layout> => {
    // Without a cgroup view, X's `ps` also lists the processes of containers run with
    // --pid=container:X, whose PidMode (not X's) says so: ask the engine (src/engine/pid-joiners.ts).
    const sharedWhy = knownWhy ?? (info.running ? await joinedBy(engine, info) : null);
    return {
      local: false,
      remoteReason,
      pidMode,
      sharedPidNamespace: sharedWhy !== null,
      ...(sharedWhy !== null ? { sharedPidWhy: sharedWhy } : {}),
      nsDepth: 0,
      hostSignals: false,
      // In a shared namespace `ps` lists, and `kill N` reaches, processes of the host or of the
      // other container; only the cgroup tells the container's own apart, and it is not readable.
      ...(sharedWhy !== null && info.running
        ? { refusal: `shared PID namespace (${sharedWhy}) and no cgroup view from here (${remoteReason}): observed from the API only, never acted on` }
        : {}),
    };
  };
  if (!engine.local) return remote(`engine at ${engine.address}`);
  if (!info.running || !Number.isSafeInteger(info.initPid) || info.initPid <= 0) return remote('not running');
  const [statText, statusText, boot] = await Promise.all([
    readText(`${procRoot}/${info.initPid}/stat`),
    readText(`${procRoot}/${info.initPid}/status`),
    readBootTimeSeconds(procRoot),
  ]);
  const stat = statText === null ? undefined : parseProcStats(statText)[0];
  if (!stat) return remote(`init PID ${info.initPid} not visible here (engine on another machine or VM?)`);
  if (boot === null) return remote(`no boot time in ${procRoot}/stat`);
  if (!startMatches(stat.startTicks, boot, info)) {
    const seen = new Date(startedAtMs(stat.startTicks, boot)).toISOString();
    return remote(`PID ${info.initPid} here started at ${seen}, the engine created the container at ${info.created || 'an unknown time'} and started it at ${info.startedAt || 'an unknown time'}: not its init`);
  }
  if (cgroup === null) return remote(`no cgroup named after the container's ID on this host`);
  const nspids = statusText === null ? null : parseNsPid(statusText);
  if (nspids === null) return remote(`no NSpid line in ${procRoot}/${info.initPid}/status (kernel before 4.1?)`);
  const sharedWhy = sharedPidNamespaceWhy(pidMode, nspids);
  // A /proc of another PID namespace (the host's, bind-mounted into a pidwarden container without
  // `pid: host`) can be read, but the container's processes cannot be told from it: the kernel
  // writes cgroup.procs in the READER's PID namespace and leaves out every process that has no PID
  // there, i.e. all of them (measured: 10 processes, 10 lines read from the host's namespace, 0
  // lines from `unshare -p -f`, while pids.current read 68 from both). Its PID numbers name other
  // processes here too, for kill(2) and pidfd_open(2). So: ps and kill in the container, as for a
  // remote engine, and a shared namespace is refused (its ps and kill reach others' processes).
  if (!procRootIsOurs(procRoot)) {
    return remote(
      `${procRoot} is another PID namespace's /proc (its self is not pidwarden, PID ${process.pid} here): the container's cgroup.procs lists no process from here and those PIDs are not signalable (run pidwarden with pid: host)`,
      sharedWhy,
    );
  }
  const pidNamespace = await readlink(`${procRoot}/${info.initPid}/ns/pid`).catch(() => null);
  return {
    local: true,
    pidMode,
    sharedPidNamespace: sharedWhy !== null,
    ...(sharedWhy !== null ? { sharedPidWhy: sharedWhy } : {}),
    nsDepth: nspids.length,
    ...(pidNamespace !== null ? { pidNamespace } : {}),
    // procRoot's PID numbers are ours (above): kill(2) and pidfd_open(2) name the processes read there
    hostSignals: true,
  };
}

/** Why other containers' processes are in this one's PID namespace, or null when none are. */
async function joinedBy(engine: Engine, info: ContainerInfo): Promise<string | null> {
  try {
    const joiners = await pidNamespaceJoiners(engine, info);
    return joiners.length === 0 ? null : `joined by ${joiners.join(', ')} (--pid=container:${info.name})`;
  } catch (e) {
    // Not knowing is no licence: a joiner's processes would be in this container's ps and kill.
    return `cannot tell whether other containers join it: ${e instanceof Error ? e.message : String(e)}`;
  }
}

