// Which containers a command looks at, and what the engine says about each.
import type Docker from 'dockerode';
import { UsageError } from '../errors.ts';
import { engineCall, negotiateApi, type Engine } from './client.ts';
import { engineMessage } from './exec.ts';

export interface Selection {
  /** Names or IDs (full or unique prefix). Empty: every running container. */
  containers: string[];
  /** KEY or KEY=VALUE; a container must carry all of them. */
  labels: string[];
}

export interface ContainerInfo {
  id: string;
  /** Without the leading slash the API puts on names. */
  name: string;
  image: string;
  state: string;
  labels: Record<string, string>;
  /** Host PID of the container's init process; 0 when not running. */
  initPid: number;
  /** Whether restarting is allowed to be attempted (a running container). */
  running: boolean;
}

export async function selectContainers(engine: Engine, sel: Selection): Promise<ContainerInfo[]> {
  try {
    await negotiateApi(engine);
  } catch (e) {
    engine.apiVersion = undefined;
    throw e;
  }
  if (sel.containers.length > 0) {
    const infos = await Promise.all(sel.containers.map((ref) => inspectByRef(engine, ref)));
    // Named twice (name and ID) is still one container.
    const unique = [...new Map(infos.map((i) => [i.id, i])).values()];
    return unique.filter((i) => matchesLabels(i.labels, sel.labels));
  }
  const list = await engineCall(engine, () =>
    engine.docker.listContainers({ filters: { status: ['running'], ...(sel.labels.length ? { label: sel.labels } : {}) } }),
  );
  const infos = await Promise.all(list.map((c) => inspectById(engine, c.Id)));
  return infos.filter((i): i is ContainerInfo => i !== null);
}

async function inspectByRef(engine: Engine, ref: string): Promise<ContainerInfo> {
  try {
    return toInfo(await engineCall(engine, () => engine.docker.getContainer(ref).inspect()));
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) throw new UsageError(`no such container: ${ref}`);
    throw e;
  }
}

/** A container listed a moment ago may be gone by now: that is not an error, just one fewer. */
export async function inspectById(engine: Engine, id: string): Promise<ContainerInfo | null> {
  try {
    return toInfo(await engineCall(engine, () => engine.docker.getContainer(id).inspect()));
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}

function toInfo(i: Docker.ContainerInspectInfo): ContainerInfo {
  return {
    id: i.Id,
    name: i.Name.replace(/^\//, ''),
    image: i.Config?.Image ?? i.Image,
    state: i.State?.Status ?? 'unknown',
    labels: i.Config?.Labels ?? {},
    initPid: i.State?.Pid ?? 0,
    running: i.State?.Running === true,
  };
}

export function matchesLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, w);
    return labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

export async function restartContainer(engine: Engine, id: string, stopTimeoutSeconds: number): Promise<void> {
  // The API's t is whole seconds; round up so a 0.5 s grace still gives SIGTERM a chance.
  const t = Math.max(0, Math.ceil(stopTimeoutSeconds));
  await engineCall(engine, () => engine.docker.getContainer(id).restart({ t }));
}

export { engineMessage };
