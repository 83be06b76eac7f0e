// A restart ends the container's init, and when the init of a PID namespace dies the kernel
// SIGKILLs every other process in it: those of the containers run with --pid=container:X (compose
// `pid: "service:x"`, a Podman pod's members in its infra container's namespace, Podman's
// --pid=ns:/proc/<X's init>/ns/pid) go with X. They
// may not be selected, and the ladder gathered no evidence about them, so a restart of X is
// withheld while anything joins it, whatever the restart rule; kill steps, which touch only X's
// own cgroup, are not.
import type { Engine } from '../engine/client.ts';
import { inspectById, type ContainerInfo } from '../engine/containers.ts';
import { joinersOf, joinsAnother, pidModesNow, unresolvedWhy, type PidModeOf } from '../engine/pid-joiners.ts';
import { withheldRestart, type NextStep } from '../decide/next-step.ts';
import { initPidNamespace } from '../observe/init-namespace.ts';
import type { Layout } from '../types.ts';
import { EngineUnreachableError } from '../errors.ts';

/** With a local engine: where the host's /proc is, and the container's PID namespace (the init's /proc/<pid>/ns/pid). */
export interface KernelView {
  procRoot: string;
  pidNamespace: string;
}

/** The kernel view of an observed container, when its layout is local and its namespace was read. */
export function kernelViewOf(layout: Pick<Layout, 'local' | 'pidNamespace'>, procRoot: string): KernelView | null {
  return layout.local && layout.pidNamespace !== undefined ? { procRoot, pidNamespace: layout.pidNamespace } : null;
}

/**
 * Why a restart of `info` would kill other containers' processes, or null when none join it. With a
 * local view every other container run with `container:<ref>` or `ns:<path>` is looked up in the
 * kernel, not only those whose ref cannot be resolved (src/engine/pid-joiners.ts): its init's PID namespace is
 * `info`'s or not. A ref is resolved by what it names now, and a container renamed to the old name
 * of `info` (created before the joiner started, as the real owner was) would take the joiner away
 * from `info`. Without that view a joiner whose ref cannot be resolved could be anyone's, and the
 * restart is withheld: before, one such joiner anywhere on the host withheld every restart on it.
 */
export async function restartHitsJoiners(
  engine: Engine,
  info: Pick<ContainerInfo, 'id' | 'name'> & { pidMode?: string },
  kernel: KernelView | null = null,
  /** What ends the init: `a restart`, or reap's `a stop` (src/act/reap.ts). */
  action: 'a restart' | 'a stop' = 'a restart',
): Promise<string | null> {
  // A container that joined another's PID namespace (container:X, a pod's member, ns:<path>) or the
  // host's owns none: its init is not PID 1 there, and its end ends its own processes only (runc
  // signals every process of its cgroup when it has no namespace of its own). Asked anyway, the
  // kernel put every other joiner of X in its namespace: of two wrappers in one pod, each was
  // refused a restart (and reap's stop) for the other.
  const pidMode = info.pidMode ?? '';
  if (joinsAnother(pidMode) || pidMode === 'host') return null;
  const cannotTell = (why: string) => `cannot tell whether other containers share its PID namespace (${why}): ${action} would kill their processes too if any do`;
  let modes: PidModeOf[];
  let joiners: string[];
  let unresolved: PidModeOf[];
  try {
    modes = await pidModesNow(engine);
    ({ joiners, unresolved } = joinersOf(modes, info));
  } catch (e) {
    // An engine gone is said as such (exit 3), not as a refusal of this container: a reap whose
    // engine went away at this check said NOT STOPPED, "cannot tell whether other containers
    // share its PID namespace", and exited 1 (test/unit/reap-at-scale.test.ts). Nothing is sent either way.
    if (e instanceof EngineUnreachableError) throw e;
    // Not knowing is no licence: a joiner's processes would die with no evidence about them.
    return cannotTell(e instanceof Error ? e.message : String(e));
  }
  if (kernel === null) {
    if (unresolved.length > 0) return cannotTell(unresolvedWhy(unresolved));
  } else {
    for (const m of modes.filter((o) => joinsAnother(o.pidMode) && !joiners.includes(o.name))) {
      const inKernel = await sharesNamespace(engine, m, info, kernel);
      if (inKernel === null) return cannotTell(unresolved.includes(m) ? unresolvedWhy([m]) : `${m.name} (${m.pidMode}): its init's PID namespace cannot be read`);
      if (inKernel) joiners = [...joiners, m.name].sort();
    }
  }
  if (joiners.length === 0) return null;
  const who = joiners.length === 1 ? `container ${joiners[0]} shares` : `containers ${joiners.join(', ')} share`;
  return `${who} its PID namespace: ${action} would kill their processes too`;
}

/** The restart decided, or, when others join the container's PID namespace, a restart-skipped stop saying who. */
export async function unlessJoined(engine: Engine, info: Pick<ContainerInfo, 'id' | 'name' | 'pidMode'>, next: NextStep & { kind: 'restart' }, kernel: KernelView | null = null): Promise<NextStep> {
  const joined = await restartHitsJoiners(engine, info, kernel);
  if (joined === null) return next;
  return withheldRestart(next, joined);
}

/**
 * Whether the joiner's init is in `info`'s PID namespace (the kernel's word), or null when that
 * cannot be read, or the process at the joiner's init PID cannot be shown to be its init (its PID
 * reused since the inspect: src/observe/init-namespace.ts). Another process's namespace there
 * would hide the joiner, and the restart would kill its processes.
 */
async function sharesNamespace(engine: Engine, m: PidModeOf, info: Pick<ContainerInfo, 'id'>, kernel: KernelView): Promise<boolean | null> {
  if (m.id === info.id) return false;
  try {
    const joiner = await inspectById(engine, m.id);
    if (joiner === null) return false; // removed since the listing: nothing of it left to kill
    const namespace = await initPidNamespace(joiner, kernel.procRoot);
    return namespace === null ? null : namespace === kernel.pidNamespace;
  } catch {
    return null;
  }
}
