// Before a ladder says a container is still unhealthy, is the run it looked at still there? An
// operator's `docker stop` during a step's grace ends PID 1 first; the engine records the stop a
// moment later. A last look in between found the engine saying "running" and no process table, and
// the summary read STILL UNHEALTHY (exit 1) for a container that was stopping
// (test/integration/cleanup.test.ts, "the operator stops the container during the ladder"). So, one
// more inspect, and on a local layout the kernel's word on the init seen at the start.
import { isEngineLost, type Engine } from '../engine/client.ts';
import { inspectById, type ContainerInfo } from '../engine/containers.ts';
import { readBootTimeSeconds } from '../observe/boot-time.ts';
import { initEnded, initStartTicks } from '../observe/init-namespace.ts';
import type { ContainerObservation } from '../observe/observation.ts';

/** The init seen at the start of the ladder: its PID and start time in the host's /proc. */
export interface InitSeen {
  procRoot: string;
  initPid: number;
  startTicks: number;
}

/** True when the run `info` describes is over: stopped, paused, removed, restarted by someone else, or its init ended. */
export async function runEnded(engine: Engine, info: Pick<ContainerInfo, 'id' | 'startedAt' | 'initPid'>, init: InitSeen | null): Promise<boolean> {
  if (init !== null && initEnded(init.initPid, init.procRoot, init.startTicks)) return true;
  let now: ContainerInfo | null;
  try {
    now = await inspectById(engine, info.id);
  } catch (e) {
    if (isEngineLost(e)) throw e;
    return false; // an inspect that failed says nothing either way: the verdict stands
  }
  return now === null || !now.running || now.startedAt !== info.startedAt || now.initPid !== info.initPid;
}

/** The init's PID and start time when the layout is local and the process there is shown to be the init; else null. */
export async function initSeenAt(obs: ContainerObservation, procRoot: string): Promise<InitSeen | null> {
  if (!obs.layout.local) return null;
  const boot = await readBootTimeSeconds(procRoot);
  if (boot === null) return null;
  const startTicks = initStartTicks(obs.info, procRoot, boot);
  return startTicks === null ? null : { procRoot, initPid: obs.info.initPid, startTicks };
}
