// What the reap decision needs to know about each container: its creation and start times and
// AutoRemove (from one inspect, cached while its init PID stays the same: the monitor lists every
// cycle and must not inspect every container every cycle), the owner processes its labels name
// (host /proc), and a usage sample for the idle rule (cgroup files locally, else the engine's stats).
import type { Engine } from '../engine/client.ts';
import { engineCall } from '../engine/client.ts';
import type { ContainerInfo } from '../engine/containers.ts';
import type { UsageSample } from '../decide/idle.ts';
import { ownerPidsOf, type OwnerProcess, type ReapRules, type ReapSubject } from '../decide/reap.ts';
import type { HostPaths } from './cgroup.ts';
import { readApiUsage, readLocalUsage } from './io-counters.ts';
import { readOwnerProcess } from './owner-process.ts';
import { existsSync } from 'node:fs';

export interface ReapFacts {
  createdMs: number;
  startedAtMs: number;
  autoRemove: boolean;
}

export class ReapFactsCache {
  private readonly facts = new Map<string, { initPid: number; facts: ReapFacts }>();

  constructor(private readonly engine: Engine) {}

  /** null: the container is gone. */
  async of(info: ContainerInfo): Promise<ReapFacts | null> {
    const hit = this.facts.get(info.id);
    if (hit && hit.initPid === info.initPid) return hit.facts;
    let raw: { Created?: string; State?: { StartedAt?: string }; HostConfig?: { AutoRemove?: boolean } };
    try {
      raw = (await engineCall(this.engine, () => this.engine.docker.getContainer(info.id).inspect())) as typeof raw;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
    const createdMs = Date.parse(raw.Created ?? '');
    const startedAtMs = Date.parse(raw.State?.StartedAt ?? '');
    if (!Number.isFinite(createdMs) || !Number.isFinite(startedAtMs)) throw new Error(`inspect of ${info.name}: no Created or StartedAt time`);
    const facts = { createdMs, startedAtMs, autoRemove: raw.HostConfig?.AutoRemove === true };
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
): Promise<Observed> {
  const owners = new Map<number, OwnerProcess | null>();
  // The engine reports the init PID in its own (the host's) PID namespace: if this /proc does not
  // show it, owner PIDs cannot be looked up here either.
  const hostProcVisible = engine.local && bootMs !== null && info.initPid > 0 && existsSync(`${paths.procRoot}/${info.initPid}/stat`);
  let initStartMs: number | null = null;
  if (rules.localEngine && hostProcVisible) {
    // The init's start with the same btime reading as the owners': compared with theirs, never with
    // the engine's Created (OWNER_START_MARGIN_MS in src/decide/reap.ts says why).
    initStartMs = (await readOwnerProcess(info.initPid, paths.procRoot, bootMs!))?.startMs ?? null;
    for (const pid of ownerPidsOf(info.labels, rules.ownerLabels)) owners.set(pid, await readOwnerProcess(pid, paths.procRoot, bootMs!));
  }
  let sample: UsageSample | null = null;
  if (wantUsage) sample = engine.local ? await readLocalUsage(info.initPid, info.id, paths, nowMs) : await readApiUsage(engine, info.id, nowMs);
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
    usage: sample ? [...stored, sample] : null,
  };
  return { info, facts, subject, sample };
}

