// What the reap decision needs to know about each container: its creation and start times and
// AutoRemove (from one inspect, cached while its init PID stays the same: the monitor lists every
// cycle and must not inspect every container every cycle), the owner processes its labels name
// (host /proc, where the locality rule allows it), and a usage sample for the idle rule (cgroup files locally, else the engine's stats).
import type { Engine } from '../engine/client.ts';
import { engineCall } from '../engine/client.ts';
import { saysNoSuchContainer, type ContainerInfo } from '../engine/containers.ts';
import type { UsageSample } from '../decide/idle.ts';
import { ownerPidsOf, type OwnerProcess, type ReapRules, type ReapSubject } from '../decide/reap.ts';
import { findPidsCgroup, type HostPaths } from './cgroup.ts';
import { readApiUsage, readLocalUsage } from './io-counters.ts';
import { readLayout } from './locality.ts';
import { readOwnerProcess } from './owner-process.ts';

export interface ReapFacts {
  createdMs: number;
  startedAtMs: number;
  autoRemove: boolean;
  /** HostConfig.NetworkMode ('' when the engine gives none): whether the API's stats can tell its network traffic. */
  networkMode: string;
}

export class ReapFactsCache {
  private readonly facts = new Map<string, { initPid: number; facts: ReapFacts }>();

  constructor(private readonly engine: Engine) {}

  /** null: the container is gone. */
  async of(info: ContainerInfo): Promise<ReapFacts | null> {
    const hit = this.facts.get(info.id);
    if (hit && hit.initPid === info.initPid) return hit.facts;
    let raw: { Created?: string; State?: { StartedAt?: string }; HostConfig?: { AutoRemove?: boolean; NetworkMode?: string } };
    try {
      raw = (await engineCall(this.engine, () => this.engine.docker.getContainer(info.id).inspect())) as typeof raw;
    } catch (e) {
      if (saysNoSuchContainer(e)) return null; // Podman's 500 too: removed since it was listed
      throw e;
    }
    const createdMs = Date.parse(raw.Created ?? '');
    const startedAtMs = Date.parse(raw.State?.StartedAt ?? '');
    if (!Number.isFinite(createdMs) || !Number.isFinite(startedAtMs)) throw new Error(`inspect of ${info.name}: no Created or StartedAt time`);
    const facts = { createdMs, startedAtMs, autoRemove: raw.HostConfig?.AutoRemove === true, networkMode: raw.HostConfig?.NetworkMode ?? '' };
    this.facts.set(info.id, { initPid: info.initPid, facts });
    return facts;
  }

  /** Forget containers that are no longer listed. */
  retain(ids: Set<string>): void {
    for (const id of this.facts.keys()) if (!ids.has(id)) this.facts.delete(id);
  }
}

export interface Observed {
  info: ContainerInfo;
  facts: ReapFacts;
  subject: ReapSubject;
  /** This pass's usage sample, to be stored (idle rule only). */
  sample: UsageSample | null;
}

/**
 * One container's subject. `stored` are its samples from the state file; the sample taken now
 * is appended for the decision.
 */
export async function observeReapSubject(
  engine: Engine,
  info: ContainerInfo,
  facts: ReapFacts,
  rules: ReapRules,
  paths: HostPaths,
  bootMs: number | null,
  stored: UsageSample[],
  wantUsage: boolean,
  nowMs: number,
  /** This host's uptime at nowMs (ms), kept with the sample: it tells a clock step from time passing (decide/idle.ts). */
  upMs: number | null = null,
): Promise<Observed> {
  const owners = new Map<number, OwnerProcess | null>();
  // Owner PIDs are the engine host's: they are looked up only in a /proc that the locality rule
  // of every other host read takes for the engine host's, for this container (src/observe/locality.ts:
  // its init PID is there, forked between the engine's Created and StartedAt, in a cgroup named
  // after its ID, and --proc-root's `self` is us). A PID that merely exists proves nothing: on
  // Docker Desktop, colima or an ssh-forwarded socket it is some other process of this machine,
  // and every owner PID looked up here would read "no such process".
  let hostProcVisible = false;
  let hostProcWhyNot: string | undefined;
  const hasOwnerLabel = rules.ownerLabels.some((l) => info.labels[l.key] !== undefined);
  if (rules.localEngine && hasOwnerLabel) {
    if (bootMs === null) hostProcWhyNot = `no boot time in ${paths.procRoot}/stat`;
    else {
      const cgroup = await findPidsCgroup(info.initPid, info.id, paths).catch(() => null);
      const layout = await readLayout(engine, info, paths.procRoot, cgroup);
      hostProcVisible = layout.local;
      if (!layout.local) hostProcWhyNot = layout.remoteReason ?? 'not the engine host';
    }
  }
  let initStartMs: number | null = null;
  if (rules.localEngine && hostProcVisible) {
    // The init's start with the same btime reading as the owners': compared with theirs, never with
    // the engine's Created (OWNER_START_MARGIN_MS in src/decide/reap.ts says why).
    initStartMs = (await readOwnerProcess(info.initPid, paths.procRoot, bootMs!))?.startMs ?? null;
    for (const pid of ownerPidsOf(info.labels, rules.ownerLabels)) owners.set(pid, await readOwnerProcess(pid, paths.procRoot, bootMs!));
  }
  let sample: UsageSample | null = null;
  if (wantUsage) sample = engine.local ? await readLocalUsage(info.initPid, info.id, paths, nowMs) : await readApiUsage(engine, info.id, facts.networkMode, nowMs);
  if (sample !== null && upMs !== null) sample = { ...sample, upMs };
  const subject: ReapSubject = {
    id: info.id,
    name: info.name,
    image: info.image,
    labels: info.labels,
    createdMs: facts.createdMs,
    startedAtMs: facts.startedAtMs,
    initStartMs,
    owners,
    hostProcVisible,
    ...(hostProcWhyNot === undefined ? {} : { hostProcWhyNot }),
    usage: sample ? [...stored, sample] : null,
    ...(bootMs === null ? {} : { hostBootMs: bootMs }),
  };
  return { info, facts, subject, sample };
}

