// Pure: which containers `reap` stops, by which rule, in which order. One function of what was
// observed (labels, times, owner processes, usage samples), the rules and the clock; it does no
// I/O and reads no clock, so every case is a row in test/unit/reap.test.ts.
//
// Rules, the first that applies names the reason:
//   orphan: every owner label on the container names a PID that is not alive on this host: no such
//           process, a zombie (it exited; only its parent has not reaped it), or a process that
//           started after the container's init (its PID was reused: the owner created the
//           container, so it existed before its init was forked). Local engine only: the PID must
//           be this host's.
//   age:    running longer than --max-age (or its pidwarden.max-age label), from the start label
//           (--started-label, seconds or ms since the epoch) or else the container's start time.
//   idle:   under --idle-cpu with no block or network I/O growth for --idle-for (see idle.ts).
//   pile:   more than --max-per-group running containers of one group (image or --group-label)
//           among those that stay: the oldest beyond N go.
// A container labelled pidwarden.reap=false is never stopped (it still counts in its group), and
// neither is pidwarden's own container or a pod's infra container (builtInExemption).
import { parseDuration } from './duration.ts';
import { judgeIdle, type UsageSample } from './idle.ts';
import { ENABLE_EXPECTED, ENABLE_LABEL, enablement } from './enable-label.ts';

export type ReapRule = 'orphan' | 'age' | 'idle' | 'pile';
export const REAP_RULES: readonly ReapRule[] = ['orphan', 'age', 'idle', 'pile'];

export const REAP_LABEL = 'pidwarden.reap';
const LABEL_EXEMPTION = `label ${REAP_LABEL}=false`;
export const MAX_AGE_LABEL = 'pidwarden.max-age';
/** mcpmon's label: the PID of the process that started the container. */
export const DEFAULT_OWNER_LABELS = ['mcpmon.pid'];
/** docker compose marks its containers so; compose owns their lifecycle: stop, never remove. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/**
 * An owner counts as started after the container only when it started more than this after the
 * container's init. Both start times are /proc/<pid>/stat ticks since boot (USER_HZ 100: 10 ms
 * steps) plus ONE reading of btime (src/observe/reap-subject.ts), so btime cancels out of the
 * comparison: a step of the wall clock (an NTP step, a VM resumed after sleep) moves both alike.
 * btime cannot be compared with the engine's Created: the kernel recomputes it from the wall clock
 * on every read (src/observe/boot-time.ts): after a forward step of 3 s, an owner forked 0.3 s
 * before Created read as started 2.7 s after it, beyond the margin, and every live owner's
 * container was stopped as an orphan. The margin is not needed for rounding any more; it only makes the
 * rule demand a clear gap: a PID reused within 2 s of the init's fork is missed (a missed cleanup),
 * never a live owner's container stopped.
 */
export const OWNER_START_MARGIN_MS = 2000;

export interface OwnerLabel {
  key: string;
  /** The PID is the first group; without a pattern the whole value is the PID. */
  pattern?: RegExp;
}

/** A host process as /proc shows it; null in ReapSubject.owners: no such process. */
export interface OwnerProcess {
  startMs: number;
  zombie: boolean;
}

export interface ReapSubject {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  createdMs: number;
  startedAtMs: number;
  /**
   * When the container's init was forked, from /proc/<init pid>/stat with the same btime reading as
   * the owners' startMs (so on the same clock); null when it could not be read. Its start, not
   * Created: the latest (re)start of the container, so a PID reused by a process that started
   * between the creation and a later restart passes for the owner (a missed stop, never a wrong one).
   */
  initStartMs: number | null;
  /** Host PID -> what /proc says; only the PIDs the owner labels name. */
  owners: Map<number, OwnerProcess | null>;
  /**
   * True when this /proc is the engine host's for this container (src/observe/locality.ts: a local
   * layout); only then do owner PIDs mean anything here.
   */
  hostProcVisible: boolean;
  /** Why it is not, for the problem line. */
  hostProcWhyNot?: string;
  /** Stored samples plus one taken now; null when the counters cannot be read. */
  usage: UsageSample[] | null;
  /** This host's boot (/proc/stat btime, ms) when the engine's socket is on this host; absent when not read. */
  hostBootMs?: number;
}

export interface ReapRules {
  ownerLabels: OwnerLabel[];
  orphanUnlabelled: boolean;
  maxAgeMs?: number;
  startedLabel?: string;
  idleCpuPercent: number;
  idleForMs?: number;
  maxPerGroup?: number;
  groupLabel?: string;
  /** The PIDs in owner labels are this host's only when the engine is. */
  localEngine: boolean;
  /** The container(s) pidwarden runs in (src/observe/own-container.ts): never stopped. */
  ownContainerIds?: readonly string[];
}

export interface OwnerFigures {
  label: string;
  pid: number;
  alive: false;
  why: 'no such process' | 'zombie' | 'started after the container';
  ownerStartedAt?: string;
}

export interface ReapFigures {
  owners?: OwnerFigures[];
  unlabelled?: true;
  ageSeconds?: number;
  maxAgeSeconds?: number;
  startedFrom?: string;
  cpuPercent?: number;
  idleForSeconds?: number;
  group?: string;
  groupSize?: number;
  maxPerGroup?: number;
}

export interface ReapDecision {
  id: string;
  name: string;
  rule: ReapRule;
  reason: string;
  figures: ReapFigures;
  /** Start used for ordering and age (ms). */
  startMs: number;
}

export interface ReapPlan {
  /** In the order to act: orphan, age, idle, pile; oldest first within a rule. */
  stop: ReapDecision[];
  /** pidwarden.reap=false containers that a rule would have stopped. */
  kept: ReapDecision[];
  /** A container that cannot be judged by one rule (or at all), and why. */
  problems: { id: string; name: string; reason: string; skipped: boolean }[];
  /** Every group over --max-per-group, as counted before any stop. */
  floods: { group: string; size: number; max: number }[];
}

/** The PID named by one owner label's value, or a reason it names none. */
export function ownerPidOf(value: string, spec: OwnerLabel): number | string {
  let text = value.trim();
  if (spec.pattern) {
    const m = spec.pattern.exec(value);
    if (!m || m[1] === undefined) return `does not match ${spec.pattern.source}`;
    text = m[1];
  }
  if (!/^\d{1,7}$/.test(text)) return `not a PID: ${JSON.stringify(text)}`;
  const pid = Number(text);
  // PID_MAX_LIMIT on 64-bit is 4194304.
  return pid >= 1 && pid <= 4_194_304 ? pid : `not a PID: ${pid}`;
}

/** Every (label, PID) a container's owner labels name, for the observer to look up in /proc. */
export function ownerPidsOf(labels: Record<string, string>, specs: OwnerLabel[]): number[] {
  const out = new Set<number>();
  for (const spec of specs) {
    const v = labels[spec.key];
    if (v === undefined) continue;
    const pid = ownerPidOf(v, spec);
    if (typeof pid === 'number') out.add(pid);
  }
  return [...out];
}

/** No container engine ran before 2000 (Docker appeared in 2013): an earlier start is a misread label. */
export const EARLIEST_START_LABEL_MS = Date.UTC(2000, 0, 1);
/** A start label may be ahead of this host's clock by the other machine's clock error, not by more than a day. */
export const START_LABEL_FUTURE_MS = 86_400_000;

/**
 * Start label: seconds or ms since the epoch (1e11 s lies in the year 5138, 1e11 ms in 1973), in
 * ms; or why it is not a start time. A plausible number is not enough: "20261201" (a date written
 * as YYYYMMDD) read as seconds is 1970-08-23, and the age rule stopped that container as 56 years
 * old; so a start before 2000-01-01 or more than a day after `nowMs` is refused.
 */
export function parseStartLabel(value: string, nowMs: number): number | string {
  const expected = 'expected seconds or ms since the epoch';
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) return expected;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return expected;
  const ms = n >= 1e11 ? Math.round(n) : Math.round(n * 1000);
  if (ms < EARLIEST_START_LABEL_MS || ms > nowMs + START_LABEL_FUTURE_MS) {
    const date = new Date(ms);
    const when = Number.isNaN(date.getTime()) ? 'a date out of range' : date.toISOString();
    return `${expected}, read as ${when}: before 2000-01-01 or more than a day ahead of now`;
  }
  return ms;
}

type Judged<T> = { ok: true; value: T } | { ok: false; reason: string } | null;

function judgeOrphan(s: ReapSubject, rules: ReapRules): Judged<{ reason: string; figures: ReapFigures }> {
  const present = rules.ownerLabels.filter((spec) => s.labels[spec.key] !== undefined);
  if (present.length === 0) {
    if (!rules.orphanUnlabelled) return null;
    const keys = rules.ownerLabels.map((l) => l.key).join(', ');
    return { ok: true, value: { reason: `no owner label (${keys}) and --orphan-unlabelled`, figures: { unlabelled: true } } };
  }
  if (!rules.localEngine) return { ok: false, reason: 'owner labels name PIDs of the engine host; the engine is remote, orphan rule not applied' };
  if (!s.hostProcVisible) {
    return { ok: false, reason: `this /proc is not the engine host's for this container (${s.hostProcWhyNot ?? 'unknown'}): owner PIDs cannot be looked up; orphan rule not applied` };
  }
  if (s.initStartMs === null) return { ok: false, reason: "the container's init start time could not be read from this /proc; orphan rule not applied" };
  const initStartMs = s.initStartMs;
  const owners: OwnerFigures[] = [];
  for (const spec of present) {
    const pid = ownerPidOf(s.labels[spec.key]!, spec);
    if (typeof pid === 'string') return { ok: false, reason: `owner label ${spec.key}=${JSON.stringify(s.labels[spec.key])}: ${pid}; orphan rule not applied` };
    if (!s.owners.has(pid)) return { ok: false, reason: `owner PID ${pid} not looked up` };
    const p = s.owners.get(pid)!;
    // One live owner is enough to keep the container. Compared with the init's start, on the same
    // clock as the owner's (OWNER_START_MARGIN_MS), never with the engine's Created.
    if (p && !p.zombie && p.startMs <= initStartMs + OWNER_START_MARGIN_MS) return null;
    owners.push({
      label: spec.key,
      pid,
      alive: false,
      why: p === null ? 'no such process' : p.zombie ? 'zombie' : 'started after the container',
      ...(p ? { ownerStartedAt: new Date(p.startMs).toISOString() } : {}),
    });
  }
  const said = owners.map((o) => `owner PID ${o.pid} (${o.label}): ${o.why}`).join('; ');
  return { ok: true, value: { reason: said, figures: { owners } } };
}

function startOf(s: ReapSubject, rules: ReapRules, nowMs: number): { ms: number; from: string } | string {
  if (rules.startedLabel !== undefined && s.labels[rules.startedLabel] !== undefined) {
    const ms = parseStartLabel(s.labels[rules.startedLabel]!, nowMs);
    if (typeof ms === 'string') return `start label ${rules.startedLabel}=${JSON.stringify(s.labels[rules.startedLabel])}: ${ms}`;
    return { ms, from: `label ${rules.startedLabel}` };
  }
  const recorded = new Date(s.startedAtMs).toISOString();
  if (s.startedAtMs < EARLIEST_START_LABEL_MS) return `container start ${recorded}: before 2000-01-01, recorded on a clock not yet set`;
  if (s.hostBootMs !== undefined && s.startedAtMs < s.hostBootMs - START_BEFORE_BOOT_SLACK_MS) {
    return `container start ${recorded} is before this host booted (${new Date(s.hostBootMs).toISOString()}): recorded on a clock that was set later (no hardware clock, fake-hwclock)`;
  }
  return { ms: s.startedAtMs, from: 'container start' };
}

/**
 * A container's current run started after the boot of the host it runs on (engines restart their
 * containers after a reboot, none survives one). A StartedAt further before this host's boot was
 * recorded before the clock was set: a board without a hardware clock boots at 1970 or at
 * fake-hwclock's last saved time (hours to days behind), the engine starts its restart-policy
 * containers, then NTP steps the clock forward, and an age read from that StartedAt is the size of
 * the step (a day, or 56 years: every container over any --max-age). btime is recomputed from
 * the stepped clock, so it is right by then; a minute of slack covers its whole-second truncation
 * and the drift of a host up for months. On an engine behind a local socket on another machine
 * (an ssh-forwarded socket), a container started before this machine's boot is refused the same
 * way: a missed stop, never a wrong one.
 */
export const START_BEFORE_BOOT_SLACK_MS = 60_000;

/** The container's own pidwarden.enable / pidwarden.reap / pidwarden.max-age labels; a malformed one skips it. */
function labelPolicy(labels: Record<string, string>): { exempt: boolean; maxAgeMs?: number } | string {
  const enable = enablement(labels);
  if (typeof enable === 'object') return `label ${ENABLE_LABEL}=${JSON.stringify(enable.malformed)}: ${ENABLE_EXPECTED}; container skipped`;
  const reap = labels[REAP_LABEL];
  if (reap !== undefined && !['true', 'false'].includes(reap.trim())) return `label ${REAP_LABEL}=${JSON.stringify(reap)}: expected true or false; container skipped`;
  const age = labels[MAX_AGE_LABEL];
  let maxAgeMs: number | undefined;
  if (age !== undefined) {
    const ms = parseDuration(age);
    if (ms === null) return `label ${MAX_AGE_LABEL}=${JSON.stringify(age)}: expected a duration such as 90s, 30m, 1h, 2d; container skipped`;
    maxAgeMs = ms;
  }
  return { exempt: reap?.trim() === 'false', ...(maxAgeMs === undefined ? {} : { maxAgeMs }) };
}

/**
 * Whether the image is a pod's infra ("pause") image: its last path component, without tag or
 * digest, is `pause` (Kubernetes: k8s.gcr.io/pause:3.5, registry.k8s.io/pause:3.9) or
 * `podman-pause` (Podman builds it locally: localhost/podman-pause:4.3.1-0, as its compat API
 * reports it in Config.Image; the container is named `<pod ID prefix>-infra`).
 */
export function isPodInfraImage(image: string): boolean {
  const name = image.replace(/@.*$/, '').split('/').at(-1)!.replace(/:[^:]*$/, '');
  return name === 'pause' || name === 'podman-pause';
}

/**
 * Why a container is never stopped whatever the rules say, or null. pidwarden's own container:
 * stopping it ends the monitor that was to keep the host in order (`reap --all --max-age 1d` hit
 * it on its first day). A pod's infra container holds the pod's namespaces: stopping it takes
 * every member of the pod down, and with --all they piled up as one group (one per pod, one image).
 * Such a container is left alone like one labelled pidwarden.reap=false, and counted in its group the same way.
 */
export function builtInExemption(s: Pick<ReapSubject, 'id' | 'image'>, ownContainerIds: readonly string[] = []): string | null {
  if (ownContainerIds.includes(s.id)) return "pidwarden's own container";
  if (isPodInfraImage(s.image)) return `a pod's infra container (image ${s.image})`;
  return null;
}

export function groupOf(s: { image: string; labels: Record<string, string> }, groupLabel?: string): string | null {
  if (groupLabel === undefined) return `image ${s.image}`;
  const v = s.labels[groupLabel];
  return v === undefined ? null : `${groupLabel}=${v}`;
}

export function decideReap(subjects: readonly ReapSubject[], rules: ReapRules, nowMs: number): ReapPlan {
  const plan: ReapPlan = { stop: [], kept: [], problems: [], floods: [] };
  // exempt: why a rule's decision about the container is not carried out (null: it is)
  const found: (ReapDecision & { exempt: string | null })[] = [];
  const staying: { s: ReapSubject; startMs: number; exempt: string | null }[] = [];
  for (const s of subjects) {
    const pol = labelPolicy(s.labels);
    if (typeof pol === 'string') {
      plan.problems.push({ id: s.id, name: s.name, reason: pol, skipped: true });
      continue;
    }
    const problem = (reason: string) => plan.problems.push({ id: s.id, name: s.name, reason, skipped: false });
    const exempt = pol.exempt ? LABEL_EXEMPTION : builtInExemption(s, rules.ownContainerIds);
    const start = startOf(s, rules, nowMs);
    const startMs = typeof start === 'string' ? s.startedAtMs : start.ms;
    const hit = (rule: ReapRule, reason: string, figures: ReapFigures) => {
      found.push({ id: s.id, name: s.name, rule, reason, figures, startMs, exempt });
      // an exempt container keeps running, so it stays in its group (README: "it still counts in its group")
      if (exempt !== null) staying.push({ s, startMs, exempt });
    };

    const orphan = judgeOrphan(s, rules);
    if (orphan && !orphan.ok) problem(orphan.reason);
    if (orphan?.ok) {
      hit('orphan', orphan.value.reason, orphan.value.figures);
      continue;
    }
    // The label sets the container's own limit; --max-age given too only narrows it (the longer wins).
    const ages = [pol.maxAgeMs, rules.maxAgeMs].filter((ms): ms is number => ms !== undefined);
    const maxAgeMs = ages.length === 0 ? undefined : Math.max(...ages);
    if (maxAgeMs !== undefined) {
      if (typeof start === 'string') problem(`${start}; age rule not applied`);
      else if (nowMs - start.ms > maxAgeMs) {
        const ageSeconds = Math.round((nowMs - start.ms) / 1000);
        hit('age', `running ${ageSeconds} s > max-age ${Math.round(maxAgeMs / 1000)} s (from ${start.from})`, {
          ageSeconds,
          maxAgeSeconds: Math.round(maxAgeMs / 1000),
          startedFrom: start.from,
        });
        continue;
      }
    }
    if (rules.idleForMs !== undefined && s.usage !== null) {
      const v = judgeIdle(s.usage, nowMs, rules.idleForMs, rules.idleCpuPercent);
      if (v.idle) {
        const idleForSeconds = Math.round(v.forMs / 1000);
        hit('idle', `idle for ${idleForSeconds} s: CPU at most ${v.cpuPercent}% < ${rules.idleCpuPercent}%, no block or network I/O`, {
          cpuPercent: v.cpuPercent,
          idleForSeconds,
        });
        continue;
      }
    }
    staying.push({ s, startMs, exempt });
  }

  if (rules.maxPerGroup !== undefined) {
    const groups = new Map<string, typeof staying>();
    for (const m of staying) {
      const g = groupOf(m.s, rules.groupLabel);
      if (g !== null) groups.set(g, [...(groups.get(g) ?? []), m]);
    }
    const max = rules.maxPerGroup;
    // The flood as the operator sees it: every running member, also those another rule stops.
    const sizeOf = (g: string) => subjects.filter((s) => groupOf(s, rules.groupLabel) === g).length;
    for (const [g, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      const size = sizeOf(g);
      if (size > max) plan.floods.push({ group: g, size, max });
      if (members.length <= max) continue;
      const newestFirst = [...members].sort((a, b) => b.startMs - a.startMs || a.s.id.localeCompare(b.s.id));
      for (const m of newestFirst.slice(max)) {
        // an exempt container another rule hit is counted above, and said kept once
        if (m.exempt !== null && found.some((f) => f.id === m.s.id)) continue;
        found.push({
          id: m.s.id,
          name: m.s.name,
          rule: 'pile',
          reason: `${members.length} running containers of ${g} > max-per-group ${max}; among the oldest`,
          figures: { group: g, groupSize: members.length, maxPerGroup: max },
          startMs: m.startMs,
          exempt: m.exempt,
        });
      }
    }
  }

  const order = (a: ReapDecision, b: ReapDecision) =>
    REAP_RULES.indexOf(a.rule) - REAP_RULES.indexOf(b.rule) || a.startMs - b.startMs || a.id.localeCompare(b.id);
  for (const f of found.sort(order)) {
    const { exempt, ...d } = f;
    if (exempt === null) plan.stop.push(d);
    else if (exempt === LABEL_EXEMPTION) plan.kept.push(d);
    // plan.kept is "kept by label" wherever it is shown (reap's summary, audit's KEPT lines): a
    // built-in exemption is said as a notice naming the rule it overrides. Not the rule's reason:
    // an age or idle figure changes every cycle, and the monitor says a notice once per text.
    else plan.problems.push({ id: d.id, name: d.name, reason: `never stopped: ${exempt}; the ${d.rule} rule would stop it`, skipped: false });
  }
  return plan;
}
