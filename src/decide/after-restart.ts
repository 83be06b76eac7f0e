// Pure: is a container that pidwarden just restarted up? The engine answers a restart once it has
// started the container again. A main process that exits at once leaves it exited (or, under a
// restart policy, restarting) a moment later, and one that the policy brings back and that dies
// again runs under a newer StartedAt each time: a crash loop. None of these is healthy, and none
// is an operator's stop, which is what a ladder that finds its container not running assumes.
// Nor is a container the engine cannot be asked about right after the restart: its state is unknown.
import type { ContainerInfo } from '../engine/containers.ts';

export interface DownAfterRestart {
  /** The engine's state (exited, restarting, dead, …), `removed`, `restarted-again`, or `unknown` (the inspect failed). */
  state: string;
  /** For people: the state and the last exit code, e.g. "exited (exit code 1)". */
  said: string;
}

/**
 * null when the container runs; with `upAt` (the StartedAt seen at the first look after the
 * restart), only when it still runs that same start. `now` null: the engine no longer has it (an
 * `--rm` container that exited).
 */
export function downAfterRestart(now: Pick<ContainerInfo, 'running' | 'state' | 'startedAt' | 'exitCode'> | null, upAt?: string): DownAfterRestart | null {
  if (now === null) return { state: 'removed', said: 'removed (an --rm container that exited?)' };
  if (now.running && (upAt === undefined || now.startedAt === upAt)) return null;
  const code = now.exitCode === undefined ? '' : ` (exit code ${now.exitCode})`;
  if (now.running) return { state: 'restarted-again', said: `started again by the engine at ${now.startedAt} after the restart's run ended${code}` };
  return { state: now.state, said: `${now.state}${code}` };
}

/**
 * The inspect after the restart failed: the engine was slow to answer right after it (the restart
 * had just stopped and started the container) or answered something that is no container. Whether
 * it runs is not known, so it is not taken for healthy.
 */
export function notInspectableAfterRestart(message: string): DownAfterRestart {
  return { state: 'unknown', said: `not inspectable after the restart: ${message}` };
}
