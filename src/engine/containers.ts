// Which containers a command looks at, and what the engine says about each.
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { PidwardenError, UsageError } from '../errors.ts';
import { engineCall, negotiateApi, type Engine } from './client.ts';
import { EngineHttpError, engineGetJson, engineGetList, enginePost } from './http.ts';
import { engineMessage } from './exec.ts';
import { configuredLimit } from '../decide/limits.ts';
import { readBootTimeSeconds } from '../observe/boot-time.ts';
import { initStartTicks } from '../observe/init-namespace.ts';
import { parseProcStats } from '../observe/proc-stat.ts';
import { isContainerReference, noSuchContainer, referenceMeans } from './reference.ts';
import { INSPECTS_AT_ONCE, listWithPaused } from './listing.ts';
import { mapBounded } from '../bounded.ts';

export interface Selection {
  /** Names or IDs (full, or a unique prefix of at least 12 hex digits). Empty: every running container. */
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
  /** State.ExitCode: how its last run ended (0 before any). */
  exitCode?: number;
  /**
   * Config.StopTimeout in seconds, when the container sets one (`--stop-timeout`, compose
   * `stop_grace_period`). Negative: Docker waits for its stop with no end (stopTimeoutOf).
   */
  stopTimeout?: number;
  /**
   * HostConfig.PidsLimit as configured: null, 0 and -1 all mean none (null here). Podman's stats
   * (4.3 and 5.4, measured) carry pids_stats.current but never a limit, so a remote engine's
   * pids.max comes from here then.
   */
  pidsLimit?: number | null;
  /** HostConfig.Init: an init (docker-init, tini) runs as PID 1 and reaps every orphan. */
  init?: boolean;
  /** HostConfig.PidMode: '' (its own PID namespace), 'host', 'container:<id>'. */
  pidMode: string;
  /** Created, State.StartedAt and State.FinishedAt (RFC 3339), to check that the init PID seen here is the engine's. */
  created: string;
  startedAt: string;
  finishedAt: string;
  /** Config.User: the image's or `--user`'s user ('' = root). */
  user: string;
}

export async function selectContainers(engine: Engine, sel: Selection): Promise<ContainerInfo[]> {
  if (sel.containers.length > 0) {
    await negotiateApi(engine);
    const resolved = await Promise.all(sel.containers.map((ref) => resolveReference(engine, ref)));
    return selectedByReference(resolved, sel.labels);
  }
  // The list is the same in every API version: asked beside the version (one round trip less),
  // unversioned when no version is agreed yet; the inspects after it are versioned. Paused ones
  // are asked apart (src/engine/listing.ts: Podman's default listing leaves them out).
  const [, list] = await Promise.all([negotiateApi(engine), listWithPaused(engine, sel.labels)]);
  const infos = await mapBounded(list, INSPECTS_AT_ONCE, (c) => inspectById(engine, c.Id));
  // The engine's label filter is only a first cut: engines read `KEY=` differently (Docker: the
  // empty value; Podman, its compat API too: any value), so `--label project=$PROJECT` with PROJECT
  // unset selected every project's containers on Podman. Matched here as for --container.
  return infos.filter((i): i is ContainerInfo => i !== null && matchesLabels(i.labels, sel.labels));
}

/**
 * A listing without --container is the engine's default one: running containers, paused and
 * restarting ones included (Docker's `docker ps`; Podman's paused ones asked apart,
 * src/engine/listing.ts), so that an audit reports them as such and cleanup/monitor can say why
 * they are left alone; a stopped container has no processes to report. Not a status filter alone:
 * Podman 4.3 refuses the state `restarting` (HTTP 500 "unknown container state"), and `pidwarden
 * audit` without --container failed on Podman with exit 70.
 */

/** One --container reference, resolved: a name follows whatever container has that name; an ID (or prefix) stays that one container. */
export interface ResolvedReference {
  ref: string;
  info: ContainerInfo;
  /** True when the reference is the container's name, false when it is (a prefix of) its ID. */
  byName: boolean;
}

export async function resolveReference(engine: Engine, ref: string): Promise<ResolvedReference> {
  const info = await inspectByRef(engine, ref);
  const means = referenceMeans(ref, info);
  // the engine took it for a short ID prefix (or a foreign spelling): not what the operator named
  if (means === null) throw new UsageError(noSuchContainer(ref));
  return { ref, info, byName: means === 'name' };
}

/** Named twice (name and ID) is still one container. */
function selectedByReference(resolved: ResolvedReference[], labels: string[]): ContainerInfo[] {
  const unique = [...new Map(resolved.map((r) => [r.info.id, r.info])).values()];
  return unique.filter((i) => matchesLabels(i.labels, labels));
}

async function inspectByRef(engine: Engine, ref: string): Promise<ContainerInfo> {
  // The API writes names with a leading slash; accept that form too. Anything else that is not a
  // valid name would be spliced into the request path ("..", "a/b", spaces): refuse it here.
  if (!isContainerReference(ref)) throw new UsageError(noSuchContainer(ref));
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  try {
    return toInfo(await engineCall(engine, () => engine.docker.getContainer(encodeURIComponent(name)).inspect()));
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) throw new UsageError(noSuchContainer(ref));
    // An ID prefix several containers share: the user's reference, not the engine, is at fault.
    // Docker: 400 (older: 500) "multiple IDs found with provided prefix"; Podman: 500 "more than
    // one result for container".
    if (status !== undefined && /multiple ids|more than one result/i.test(engineMessage(e))) throw new UsageError(`ambiguous container reference: ${ref}`);
    if (status !== undefined && status >= 400 && status < 500) throw new UsageError(`container ${ref}: ${engineMessage(e)}`);
    throw e;
  }
}

/** A container listed a moment ago may be gone by now: that is not an error, just one fewer. */
export async function inspectById(engine: Engine, id: string): Promise<ContainerInfo | null> {
  try {
    return toInfo(await engineCall(engine, () => engineGetJson<Docker.ContainerInspectInfo>(engine, `/containers/${encodeURIComponent(id)}/json`)));
  } catch (e) {
    if (saysNoSuchContainer(e)) return null;
    throw e;
  }
}

/**
 * Whether an engine error says the container is gone: a 404, or Podman's 500. Podman looks the
 * container up, then inspects it: removed in between (a flood of short-lived MCP wrappers), the
 * inspect fails with a 500 "no such container" instead of a 404.
 */
export function saysNoSuchContainer(e: unknown): boolean {
  const status = (e as { statusCode?: number })?.statusCode;
  if (status === 404) return true;
  return status !== undefined && status >= 500 && /no such container/i.test(engineMessage(e));
}

function toInfo(i: Docker.ContainerInspectInfo): ContainerInfo {
  if (typeof i?.Id !== 'string' || typeof i.Name !== 'string') throw new EngineHttpError(200, 'the engine answered an inspect without a container ID and name');
  return {
    id: i.Id,
    name: i.Name.replace(/^\//, ''),
    image: i.Config?.Image ?? i.Image,
    state: i.State?.Status ?? 'unknown',
    labels: i.Config?.Labels ?? {},
    initPid: i.State?.Pid ?? 0,
    // The engine says Running for a paused container (its processes are frozen) and for one it is
    // restarting: neither is observed or acted on (see notActingReason).
    running: i.State?.Running === true && i.State.Paused !== true && i.State.Restarting !== true,
    ...(typeof i.State?.ExitCode === 'number' ? { exitCode: i.State.ExitCode } : {}),
    ...stopTimeoutField(i.Config as unknown as { StopTimeout?: unknown } | undefined),
    pidsLimit: configuredLimit((i.HostConfig as { PidsLimit?: unknown } | undefined)?.PidsLimit),
    init: (i.HostConfig as { Init?: unknown } | undefined)?.Init === true,
    pidMode: i.HostConfig?.PidMode ?? '',
    created: i.Created ?? '',
    startedAt: i.State?.StartedAt ?? '',
    finishedAt: i.State?.FinishedAt ?? '',
    user: i.Config?.User ?? '',
  };
}

function stopTimeoutField(config: { StopTimeout?: unknown } | undefined): { stopTimeout?: number } {
  const t = config?.StopTimeout;
  return typeof t === 'number' && Number.isSafeInteger(t) ? { stopTimeout: t } : {};
}

/** Why cleanup and monitor leave a selected container alone; null when it is running and may be acted on. */
export function notActingReason(info: ContainerInfo): string | null {
  if (info.running) return null;
  switch (info.state) {
    case 'paused':
      return 'paused: its processes are frozen; pidwarden never acts on a paused container (docker unpause first)';
    case 'restarting':
      return 'restarting: the engine is restarting it; looked at again once it runs';
    case 'dead':
      return 'dead: the engine could not stop or remove it cleanly; nothing runs to clean up';
    default:
      return `${info.state}: not running; nothing to clean up`;
  }
}

export function matchesLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, w);
    return labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** Docker's and Podman's stop timeout when neither the container nor the caller sets one. */
export const ENGINE_DEFAULT_STOP_TIMEOUT_S = 10;

export interface StopTimeout {
  seconds: number;
  /** --stop-timeout, the container's own StopTimeout, or the engine's default. */
  from: 'flag' | 'container' | 'engine default';
}

/** The container's own StopTimeout is negative and no --stop-timeout bounds it: its stop has no end. */
export interface NoStopTimeout {
  seconds: null;
  from: 'container';
  /** The StopTimeout as configured (-1 from `docker run --stop-timeout -1`). */
  configured: number;
}

/**
 * The API's t is whole seconds; round up so a 0.5 s timeout still gives SIGTERM a chance. A
 * negative StopTimeout is Docker's "wait for ever" (moby's containerStop sets no deadline for
 * it and never sends SIGKILL), not its 10 s default: a call sent without `t` would be answered
 * only once the main process exits of its own accord.
 */
export function stopTimeoutOf(info: ContainerInfo, flagSeconds: number | undefined): StopTimeout | NoStopTimeout {
  if (flagSeconds !== undefined) return { seconds: Math.max(0, Math.ceil(flagSeconds)), from: 'flag' };
  if (info.stopTimeout !== undefined && info.stopTimeout < 0) return { seconds: null, from: 'container', configured: info.stopTimeout };
  if (info.stopTimeout !== undefined) return { seconds: info.stopTimeout, from: 'container' };
  return { seconds: ENGINE_DEFAULT_STOP_TIMEOUT_S, from: 'engine default' };
}

/**
 * Why pidwarden neither restarts nor stops a container whose stop has no end: the call would
 * outlast pidwarden's deadline for it (--timeout on top of the stop timeout), which gives up while
 * the engine goes on waiting and restarts (or stops) the container whenever its main process
 * exits, if ever. Its owner asked never to have it killed on a stop; an operator overrules that
 * with --stop-timeout, which is sent as `t`.
 */
export function stopWithoutEndWhy(timeout: NoStopTimeout, action: 'restart' | 'stop'): string {
  return `its StopTimeout is ${timeout.configured}: the engine would wait for it to stop with no end and never SIGKILL it, so a ${action} could hang for good; --stop-timeout S ${action}s it within S seconds`;
}

/** A restart asked for a container whose stop has no end (stopWithoutEndWhy): never sent. */
export class StopWithoutEndError extends PidwardenError {}

/**
 * Sent with the stop timeout decided here as `t`, whatever it came from. Podman's compat restart
 * never falls back to the container's own timeout: a missing `t` is 0 there, a SIGKILL with no stop
 * signal first (https://github.com/containers/podman/blob/main/pkg/api/handlers/compat/containers_restart.go:
 * `Timeout: &query.DockerTimeout`). Docker reads a missing `t` as the container's StopTimeout, else
 * 10 s: the value sent here. The engine answers after stopping (up to that timeout) and starting it again.
 */
export async function restartContainer(engine: Engine, id: string, timeout: StopTimeout): Promise<void> {
  await engineCall(engine, () => enginePost(engine, stopPath(id, 'restart', timeout), engine.timeoutMs + timeout.seconds * 1000 + 1000), timeout.seconds * 1000);
}

/** POST /containers/ID/restart or /stop, with the stop timeout pidwarden logs as `t` (see restartContainer). */
export function stopPath(id: string, action: 'restart' | 'stop', timeout: StopTimeout): string {
  return `/containers/${encodeURIComponent(id)}/${action}?t=${timeout.seconds}`;
}

export { engineMessage };

/**
 * The monitor's per-cycle listing: ONE list call, with init PIDs from a cache of earlier inspects.
 * An inspect per container per cycle would be 30 requests every 0.25 s on a 30-container host;
 * the init PID only changes when the container (re)starts, which `invalidate` is told about.
 * A restart from outside is noticed on a local engine: the cached init is checked each cycle by
 * its identity, PID and start time, so a PID reused by another process after the restart does
 * not keep the old inspect (and the container on the wrong route) until that process exits.
 * --container references are resolved once, at the first list: an ID or ID prefix is pinned to
 * the full ID it meant then (a container created later whose ID starts with the same characters
 * is never picked up), a name is looked up again each cycle (a container recreated under that
 * name, e.g. by compose, is followed).
 */
export class ContainerLister {
  /** Each running container's last inspect, with its init's start time here when the engine is local. */
  private readonly inspected = new Map<string, { info: ContainerInfo; initStartTicks: number | null }>();
  /** Resolved --container references; null until the first list. */
  private pins: ResolvedReference[] | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly sel: Selection,
    /** The host's /proc, to notice a restart we did not do (the cached init PID is gone). */
    private readonly procRoot: string,
  ) {}

  /**
   * The running selected containers. The first call resolves the references (a name that does
   * not exist: UsageError) and returns every selected container, running or not, so the caller
   * can say why one is left alone.
   */
  async list(): Promise<ContainerInfo[]> {
    await negotiateApi(this.engine);
    if (this.pins === null && this.sel.containers.length > 0) {
      const resolved = await Promise.all(this.sel.containers.map((ref) => resolveReference(this.engine, ref)));
      this.pins = resolved;
      const infos = selectedByReference(resolved, this.sel.labels);
      await Promise.all(infos.filter((i) => i.running).map((i) => this.remember(i)));
      return infos;
    }
    const filters = JSON.stringify({ status: ['running'], ...(this.sel.labels.length ? { label: this.sel.labels } : {}) });
    const listed = await engineCall(this.engine, () =>
      engineGetList<Docker.ContainerInfo>(this.engine, `/containers/json?filters=${encodeURIComponent(filters)}`),
    );
    const pins = this.pins ?? [];
    const wanted = listed.filter((c) => this.sel.containers.length === 0 || pins.some((p) => refersTo(p, c)));
    const live = new Set(wanted.map((c) => c.Id));
    for (const id of this.inspected.keys()) if (!live.has(id)) this.inspected.delete(id);
    const infos = await Promise.all(
      wanted.map(async (c) => {
        const cached = this.inspected.get(c.Id);
        if (cached && this.initStillItsOwn(cached)) return this.withListedName(cached.info, c);
        const info = await inspectById(this.engine, c.Id);
        if (info) await this.remember(info);
        return info;
      }),
    );
    // as in selectContainers: the engine's label filter is not the same on every engine
    return infos.filter((i): i is ContainerInfo => i !== null && i.running && matchesLabels(i.labels, this.sel.labels));
  }

  /**
   * `docker rename` keeps the init PID, so the cached inspect outlives it: the name is this
   * listing's, or --exclude NAME and every log line would go by the name it had when inspected.
   */
  private withListedName(cached: ContainerInfo, c: Pick<Docker.ContainerInfo, 'Names'>): ContainerInfo {
    const name = listedName(c);
    if (name === null || name === cached.name) return cached;
    const renamed = { ...cached, name };
    const entry = this.inspected.get(cached.id);
    if (entry) entry.info = renamed;
    return renamed;
  }

  /**
   * On a local engine the inspect is kept only with the start time of its own init, shown to be the
   * init as every read through an init PID shows it (initStartTicks: forked in the engine's window
   * for that start, in a cgroup named after the container's full ID), and only if a second inspect,
   * after that read, still names the same init PID and start. A restart between the inspect and the
   * read that handed the old init's PID to another process would otherwise keep that process's start
   * time, and the stale inspect for as long as that process lives (PIDs wrap at pid_max, 32768 by
   * default): a process of another container or of the host fails the cgroup check, one of the
   * container's own new run (a crash loop restarts it within the 10 s window) fails the second
   * inspect, whose StartedAt is the new run's. Not shown to be the init: not kept, inspected again
   * at the next cycle. The second inspect costs one call per container start, not per cycle.
   */
  private async remember(info: ContainerInfo): Promise<void> {
    if (!this.engine.local) {
      this.inspected.set(info.id, { info, initStartTicks: null });
      return;
    }
    const startTicks = await initStartTicksHere(this.procRoot, info);
    const again = startTicks === null ? null : await inspectById(this.engine, info.id).catch(() => null);
    if (startTicks === null || again === null || again.initPid !== info.initPid || again.startedAt !== info.startedAt) {
      this.inspected.delete(info.id);
    } else {
      this.inspected.set(info.id, { info, initStartTicks: startTicks });
    }
  }

  /**
   * Whether the cached init PID still names the process the inspect named: the same start time
   * as when it was inspected. Gone, unreadable or started since (the container restarted and the
   * PID was given to another process): inspect again. A remote engine's PIDs are not this host's.
   */
  private initStillItsOwn(entry: { info: ContainerInfo; initStartTicks: number | null }): boolean {
    if (!this.engine.local) return true;
    return entry.initStartTicks !== null && startTicksHere(this.procRoot, entry.info.initPid) === entry.initStartTicks;
  }

  /** The container restarted or its init PID vanished: inspect it again next cycle. */
  invalidate(id: string): void {
    this.inspected.delete(id);
  }
}

/** Start time (clock ticks since boot) of process `pid` in procRoot; null when gone or unreadable. */
function startTicksHere(procRoot: string, pid: number): number | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    return parseProcStats(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'))[0]?.startTicks ?? null;
  } catch {
    return null;
  }
}

/** Start time of the process at the inspect's init PID when it is shown to be the container's init; else null. */
async function initStartTicksHere(procRoot: string, info: ContainerInfo): Promise<number | null> {
  if (!Number.isSafeInteger(info.initPid) || info.initPid <= 0) return null;
  const bootSeconds = await readBootTimeSeconds(procRoot);
  return bootSeconds === null ? null : initStartTicks(info, procRoot, bootSeconds);
}

/**
 * A listed container's own name. Names also holds the aliases of legacy links (`/web/db` for db
 * linked into web as "db"); the container's name is the one without a second slash.
 */
export function listedName(c: Pick<Docker.ContainerInfo, 'Names'>): string | null {
  return (c.Names ?? []).map((n) => n.replace(/^\//, '')).find((n) => n !== '' && !n.includes('/')) ?? null;
}

/** Whether a listed container is the one a resolved reference means (exported for the unit tests). */
export function refersTo(pin: ResolvedReference, c: Pick<Docker.ContainerInfo, 'Id' | 'Names'>): boolean {
  if (!pin.byName) return c.Id === pin.info.id;
  return c.Names.some((n) => n.replace(/^\//, '') === pin.info.name);
}
