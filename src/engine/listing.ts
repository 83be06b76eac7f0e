// The engine's default container listing, and its paused containers beside it. Docker's default
// listing (`docker ps`) holds running, paused and restarting containers; Podman's holds the running
// ones only (https://github.com/containers/podman/blob/main/pkg/api/handlers/compat/containers.go,
// ListContainers), so a paused container was missing from an audit, and from the joiner check,
// on Podman. A status filter alone would not do: Podman 4.3 answers 500 "unknown container state:
// restarting". So the paused ones are asked apart, with a status every engine knows.
import type Docker from 'dockerode';
import { engineCall, type Engine } from './client.ts';
import { engineGetList } from './http.ts';

/**
 * A listing is followed by an inspect of each container listed (the selection's, the joiner
 * check's first). Sent all at once, 60 listed were up to 58 requests in flight, a socket each
 * (test/unit/reap-at-scale.test.ts), and a flood of 2,000 would be 2,000. 16 at a time keep a local
 * engine busy without a queue of ours in it: 30 inspects took it 6-10 ms (README, Performance).
 */
export const INSPECTS_AT_ONCE = 16;

function listingPath(filters: Record<string, string[]>): string {
  return Object.keys(filters).length === 0 ? '/containers/json' : `/containers/json?filters=${encodeURIComponent(JSON.stringify(filters))}`;
}

/** Running, restarting and paused containers (with these label filters), each once. */
export async function listWithPaused(engine: Engine, labels: readonly string[] = []): Promise<Docker.ContainerInfo[]> {
  const byLabel: Record<string, string[]> = labels.length > 0 ? { label: [...labels] } : {};
  const [listed, paused] = await Promise.all([
    engineCall(engine, () => engineGetList<Docker.ContainerInfo>(engine, listingPath(byLabel))),
    engineCall(engine, () => engineGetList<Docker.ContainerInfo>(engine, listingPath({ ...byLabel, status: ['paused'] }))),
  ]);
  const seen = new Set(listed.map((c) => c.Id));
  return [...listed, ...paused.filter((p) => !seen.has(p.Id))];
}
