// The engine's default container listing, and its paused containers beside it. Docker's default
// listing (`docker ps`) holds running, paused and restarting containers; Podman's holds the running
// ones only (https://github.com/containers/podman/blob/main/pkg/api/handlers/compat/containers.go,
// ListContainers), so a paused container was missing from an audit, and from the joiner check,
// on Podman. A status filter alone would not do: Podman 4.3 answers 500 "unknown container state:
// restarting". So the paused ones are asked apart, with a status every engine knows.
import type Docker from 'dockerode';
import { engineCall, type Engine } from './client.ts';
import { engineGetList } from './http.ts';

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
