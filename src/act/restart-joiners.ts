// A restart ends the container's init, and when the init of a PID namespace dies the kernel
// SIGKILLs every other process in it: those of the containers run with --pid=container:X (compose
// `pid: "service:x"`, a Podman pod's members in its infra container's namespace) go with X. They
// may not be selected, and the ladder gathered no evidence about them, so a restart of X is
// withheld while anything joins it, whatever the restart rule; kill steps, which touch only X's
// own cgroup, are not.
import type { Engine } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import { pidNamespaceJoiners } from '../engine/pid-joiners.ts';
import type { NextStep } from '../decide/next-step.ts';

/** Why a restart of `info` would kill other containers' processes, or null when none join it. */
export async function restartHitsJoiners(engine: Engine, info: Pick<ContainerInfo, 'id' | 'name'>): Promise<string | null> {
  let joiners: string[];
  try {
    joiners = await pidNamespaceJoiners(engine, info);
  } catch (e) {
    // Not knowing is no licence: a joiner's processes would die with no evidence about them.
    const why = e instanceof Error ? e.message : String(e);
    return `cannot tell whether other containers share its PID namespace (${why}): a restart would kill their processes too if any do`;
  }
  if (joiners.length === 0) return null;
  const who = joiners.length === 1 ? `container ${joiners[0]} shares` : `containers ${joiners.join(', ')} share`;
  return `${who} its PID namespace: a restart would kill their processes too`;
}

/** The restart decided, or, when others join the container's PID namespace, a restart-skipped stop saying who. */
export async function unlessJoined(engine: Engine, info: Pick<ContainerInfo, 'id' | 'name'>, next: NextStep & { kind: 'restart' }): Promise<NextStep> {
  const joined = await restartHitsJoiners(engine, info);
  if (joined === null) return next;
  return { kind: 'stop', verdict: 'unhealthy', reason: joined, event: 'restart-skipped', passed: [...next.passed, 'restart'] };
}
