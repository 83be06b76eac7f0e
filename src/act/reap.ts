// Carries out one reap decision: look again (the container must still run the same start, or the
// decision is about another life of it), stop it with its own StopTimeout (or --stop-timeout),
// then remove it only when asked and when nobody else owns that: AutoRemove containers go by
// themselves, compose-managed ones belong to compose (only stopped). Volumes are never removed.
// Never a container that others join (--pid=container:X, compose `pid: "service:x"`): its init's
// end would take their processes with it, as a restart would (src/act/restart-joiners.ts).
import { engineCall, type Engine } from '../engine/client.ts';
import { saysNoSuchContainer, stopPath, stopTimeoutOf, stopWithoutEndWhy, type ContainerInfo, type NoStopTimeout, type StopTimeout } from '../engine/containers.ts';
import { enginePost } from '../engine/http.ts';
import { engineMessage } from '../engine/exec.ts';
import { COMPOSE_PROJECT_LABEL } from '../decide/reap.ts';
import { initPidNamespace } from '../observe/init-namespace.ts';
import { restartHitsJoiners } from './restart-joiners.ts';
import { EngineUnreachableError } from '../errors.ts';

/**
 * refused: its stop would have no end (a negative StopTimeout and no --stop-timeout), so none is sent.
 * busy: a ladder (this monitor's, or another pidwarden's cleanup) holds the container's lock; the
 * stop is left to a later pass.
 */
export type ReapResult = 'stopped' | 'removed' | 'gone' | 'restarted-meanwhile' | 'failed' | 'refused' | 'dry-run' | 'busy';

export interface ReapAction {
  /** What the decision asks for: stop, and remove when allowed. */
  action: 'stop' | 'stop+remove';
  result: ReapResult;
  stopTimeout: StopTimeout | NoStopTimeout;
  autoRemove: boolean;
  compose: boolean;
  error?: string;
}

export interface ReapActOptions {
  dryRun: boolean;
  remove: boolean;
  stopTimeoutSeconds?: number;
  /** The host's /proc, when the engine is local: joiners are then looked up in the kernel too. */
  procRoot?: string;
}

export function plannedAction(info: ContainerInfo, autoRemove: boolean, o: ReapActOptions): Omit<ReapAction, 'result'> {
  const compose = info.labels[COMPOSE_PROJECT_LABEL] !== undefined;
  return {
    action: o.remove && !autoRemove && !compose ? 'stop+remove' : 'stop',
    stopTimeout: stopTimeoutOf(info, o.stopTimeoutSeconds),
    autoRemove,
    compose,
  };
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

export async function reapContainer(engine: Engine, info: ContainerInfo, startedAtMs: number, autoRemove: boolean, o: ReapActOptions): Promise<ReapAction> {
  const plan = plannedAction(info, autoRemove, o);
  const { stopTimeout } = plan;
  // before the dry run's answer: a dry run says what a real run would do
  if (stopTimeout.seconds === null) return { ...plan, result: 'refused', error: stopWithoutEndWhy(stopTimeout, 'stop') };
  if (o.dryRun) {
    const joined = await stopHitsJoiners(engine, info, o.procRoot);
    return joined === null ? { ...plan, result: 'dry-run' } : { ...plan, result: 'refused', error: joined };
  }
  const c = engine.docker.getContainer(info.id);
  try {
    const now = (await engineCall(engine, () => c.inspect())) as { State?: { Running?: boolean; Restarting?: boolean; Pid?: number; StartedAt?: string } };
    if (now.State?.Running !== true) return { ...plan, result: 'gone' };
    // A container with a restart policy that exited since it was observed is `restarting`: Running
    // stays true, StartedAt keeps the run that ended and Pid is 0 (moby's SetRestarting), and a stop
    // now would cancel the restart the engine has planned. Its run has ended: the rules judged that
    // run, not the next, so it is left alone like one restarted.
    if (now.State.Restarting === true || now.State.Pid !== info.initPid) return { ...plan, result: 'restarted-meanwhile' };
    if (Date.parse(now.State.StartedAt ?? '') !== startedAtMs) return { ...plan, result: 'restarted-meanwhile' };
  } catch (e) {
    // Nothing is sent yet: an engine gone is the whole pass's failure (exit 3), not this container's
    if (e instanceof EngineUnreachableError) throw e;
    // 404, or Podman's 500 "no such container" for one removed since it was listed (an AutoRemove
    // container that exited): gone, not a stop that failed
    if (saysNoSuchContainer(e)) return { ...plan, result: 'gone' };
    return { ...plan, result: 'failed', error: engineMessage(e) };
  }
  const joined = await stopHitsJoiners(engine, info, o.procRoot);
  if (joined !== null) return { ...plan, result: 'refused', error: joined };
  try {
    // t is the stop timeout decided here (stopPath): the container's own without --stop-timeout, as `docker stop` does.
    // The engine answers once the container is down, up to the stop timeout after SIGTERM: that
    // time comes on top of --timeout, as for a restart (a PID 1 that ignores SIGTERM takes all of
    // it, and the stop was logged as failed and the removal skipped).
    // A 304 (already stopped) is an answer, not an error: go on to the removal.
    const stopMs = stopTimeout.seconds * 1000;
    await engineCall(engine, () => enginePost(engine, stopPath(info.id, 'stop', stopTimeout), engine.timeoutMs + stopMs + 1000), stopMs);
  } catch (e) {
    // 404: already removed (an AutoRemove container that exited meanwhile); Podman says so with a
    // 500 "no such container" (saysNoSuchContainer).
    if (saysNoSuchContainer(e)) return { ...plan, result: 'gone' };
    return { ...plan, result: 'failed', error: engineMessage(e) };
  }
  if (plan.action !== 'stop+remove') return { ...plan, result: 'stopped' };
  try {
    await engineCall(engine, () => c.remove({ v: false }));
    return { ...plan, result: 'removed' };
  } catch (e) {
    // 404 gone, 409 "removal already in progress": someone else is removing it; still a success.
    if (statusOf(e) === 404 || (statusOf(e) === 409 && /in progress/i.test(engineMessage(e)))) return { ...plan, result: 'removed' };
    return { ...plan, result: 'failed', error: `stopped, but not removed: ${engineMessage(e)}` };
  }
}

/** Why stopping `info` would kill other containers' processes (they join its PID namespace), or null. */
async function stopHitsJoiners(engine: Engine, info: ContainerInfo, procRoot: string | undefined): Promise<string | null> {
  const namespace = procRoot === undefined ? null : await initPidNamespace(info, procRoot);
  return restartHitsJoiners(engine, info, procRoot !== undefined && namespace !== null ? { procRoot, pidNamespace: namespace } : null, 'a stop');
}
