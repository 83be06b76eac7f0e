// Which containers a command looks at, and what the engine says about each.
import type Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { engineCall, negotiateApi, type Engine } from './client.ts';
import { engineGetJson } from './http.ts';
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
  /**
   * HostConfig.PidsLimit when one is set. Podman's stats (4.3 and 5.4, measured) carry
   * pids_stats.current but never a limit, so a remote engine's pids.max comes from here then.
   */
  pidsLimit?: number;
}

export async function selectContainers(engine: Engine, sel: Selection): Promise<ContainerInfo[]> {
  await negotiateApi(engine);
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

/** Docker's rule for names (plus hex IDs and their prefixes, which it also satisfies). */
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

async function inspectByRef(engine: Engine, ref: string): Promise<ContainerInfo> {
  // The API writes names with a leading slash; accept that form too. Anything else that is not a
  // valid name would be spliced into the request path ("..", "a/b", spaces): refuse it here.
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  if (!CONTAINER_REF.test(name)) throw new UsageError(`no such container: ${ref}`);
  try {
    return toInfo(await engineCall(engine, () => engine.docker.getContainer(encodeURIComponent(name)).inspect()));
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) throw new UsageError(`no such container: ${ref}`);
    // 500 "Multiple IDs found with provided prefix": the user's reference, not the engine, is at fault.
    if (status !== undefined && /multiple ids/i.test(engineMessage(e))) throw new UsageError(`ambiguous container reference: ${ref}`);
    if (status !== undefined && status >= 400 && status < 500) throw new UsageError(`container ${ref}: ${engineMessage(e)}`);
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
    ...pidsLimitOf(i),
  };
}

/** 0 and -1 mean unlimited (Docker writes either; Podman 0), as does a missing field. */
function pidsLimitOf(i: Docker.ContainerInspectInfo): { pidsLimit?: number } {
  const limit = (i.HostConfig as { PidsLimit?: number | null } | undefined)?.PidsLimit;
  return typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0 ? { pidsLimit: limit } : {};
}

export function matchesLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, w);
    return labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** The API's t is whole seconds; round up so a 0.5 s grace still gives SIGTERM a chance. */
export function stopTimeoutFor(graceSeconds: number): number {
  return Math.max(0, Math.ceil(graceSeconds));
}

export async function restartContainer(engine: Engine, id: string, stopTimeoutSeconds: number): Promise<void> {
  const t = stopTimeoutFor(stopTimeoutSeconds);
  await engineCall(engine, () => engine.docker.getContainer(id).restart({ t }));
}

export { engineMessage };

/**
 * The monitor's per-cycle listing: ONE list call, with init PIDs from a cache of earlier inspects.
 * An inspect per container per cycle would be 30 requests every 0.25 s on a 30-container host;
 * the init PID only changes when the container (re)starts, which `invalidate` is told about.
 */
export class ContainerLister {
  private readonly inspected = new Map<string, ContainerInfo>();

  constructor(
    private readonly engine: Engine,
    private readonly sel: Selection,
    /** The host's /proc, to notice a restart we did not do (the cached init PID is gone). */
    private readonly procRoot: string,
  ) {}

  async list(): Promise<ContainerInfo[]> {
    await negotiateApi(this.engine);
    const filters = JSON.stringify({ status: ['running'], ...(this.sel.labels.length ? { label: this.sel.labels } : {}) });
    const listed = await engineCall(this.engine, () =>
      engineGetJson<Docker.ContainerInfo[]>(this.engine, `/containers/json?filters=${encodeURIComponent(filters)}`),
    );
    const wanted = listed.filter((c) => this.sel.containers.length === 0 || this.sel.containers.some((ref) => refersTo(ref, c)));
    const live = new Set(wanted.map((c) => c.Id));
    for (const id of this.inspected.keys()) if (!live.has(id)) this.inspected.delete(id);
    const infos = await Promise.all(
      wanted.map(async (c) => {
        const cached = this.inspected.get(c.Id);
        if (cached && (!this.engine.local || existsSync(`${this.procRoot}/${cached.initPid}`))) return cached;
        const info = await inspectById(this.engine, c.Id);
        if (info) this.inspected.set(c.Id, info);
        return info;
      }),
    );
    return infos.filter((i): i is ContainerInfo => i !== null && i.running);
  }

  /** The container restarted or its init PID vanished: inspect it again next cycle. */
  invalidate(id: string): void {
    this.inspected.delete(id);
  }
}

function refersTo(ref: string, c: Docker.ContainerInfo): boolean {
  if (ref.length >= 4 && c.Id.startsWith(ref)) return true;
  return c.Names.some((n) => n.replace(/^\//, '') === ref.replace(/^\//, ''));
}
