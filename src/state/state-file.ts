// What cleanup and monitor remember across runs, in one JSON file (--state-file, default
// /var/lib/pidwarden/state.json): each container's restart attempts, so that `--restart-limit`
// holds for a cleanup run from cron every 5 minutes as it does inside one monitor, and the samples
// (processes, runaway trees, tasks) that audit and monitor take, from which growth is forecast.
// Format (versioned; the README documents it; keys added within a version are optional):
//   { "version": 1,
//     "containers": { "<full container ID>": { "name": "metamcp", "restarts": [<ms since epoch>, ...],
//                     "samples": [[<ms>, <processes>, <trees>, <tasks>], ...], "forksRefused": 12 } } }
// plus, when `reap` measures idleness, a top-level "usage" key (usage-samples.ts) that version-1
// readers ignore.
// Every read-modify-write happens under an exclusive flock of "<file>.lock" and ends with an
// atomic rename, so two pidwardens never lose each other's records. Alongside, per-container
// ladder locks ("<dir>/locks/<id>.lock") keep two pidwardens from running a ladder on the same
// container at the same time. A file that is unreadable or corrupt is moved aside with a warning
// and started afresh (by the commands that write; explain and top only read, and change nothing); a state directory that cannot be created, a lock that cannot be taken or a
// file that cannot be written (/var full or read-only) leaves pidwarden working from memory for the
// rest of the run, with a warning: none of them ever stops a cleanup.
import { MAX_RESTART_COUNT, MAX_RESTART_WINDOW_MS } from '../decide/restart-policy.ts';
import { mkdirSync, readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lockFile, LockUnavailableError } from './flock.ts';
import type { UsageSample } from '../decide/idle.ts';
import { keepSamples } from '../decide/idle.ts';
import { parseUsageSection, pruneUsageSection, serializeUsageSection, type UsageSection } from './usage-samples.ts';

export const STATE_VERSION = 1;
/** Restart attempts older than the longest --restart-limit window allowed are dropped, and never more than its largest count kept. */
export const KEEP_RESTARTS_MS = MAX_RESTART_WINDOW_MS;
export const MAX_RESTARTS_KEPT = MAX_RESTART_COUNT;

/** [ms since the epoch, processes, runaway trees, tasks]; a figure not read is null. */
export type SampleRow = [number, number | null, number | null, number | null];

/** The container's CPU counter at the end of the last audit: [ms since the epoch, CPU ns, its StartedAt]. */
export type CpuMark = [number, number, string];

export interface ContainerRecord {
  name: string;
  restarts: number[];
  samples?: SampleRow[];
  /** pids.events `max` at the last sample: "forks refused since the previous sample". */
  forksRefused?: number;
  /** Where the next audit's CPU window may start (src/observe/cpu-mark.ts). */
  cpuMark?: CpuMark;
}

/** A CPU mark older than this is not used (a fresh 100 ms window is measured) and not kept. */
export const CPU_MARK_MAX_AGE_MS = 15 * 60_000;

/** One sample a minute (a little less, so a cron audit every minute always lands one)... */
export const SAMPLE_EVERY_MS = 55_000;
/** ... for the last 6 hours, the longest growth window; */
export const FINE_SAMPLES_MS = 6 * 3_600_000;
/** then one per 15 minutes up to 24 hours; older samples are dropped. At most ~430 a container. */
export const COARSE_EVERY_MS = 15 * 60_000;
export const KEEP_SAMPLES_MS = 24 * 3_600_000;

export interface StateDoc {
  version: typeof STATE_VERSION;
  containers: Record<string, ContainerRecord>;
  /** The reap idle rule's samples (usage-samples.ts); version-1 readers ignore the key. */
  usage?: UsageSection;
}

export const emptyState = (): StateDoc => ({ version: STATE_VERSION, containers: {} });

/** Pure: the document, or null when the text is not a state file of this version. */
export function parseState(text: string): StateDoc | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const d = data as Partial<StateDoc>;
  if (typeof d !== 'object' || d === null || d.version !== STATE_VERSION) return null;
  if (typeof d.containers !== 'object' || d.containers === null || Array.isArray(d.containers)) return null;
  const out = emptyState();
  for (const [id, raw] of Object.entries(d.containers)) {
    if (!/^[0-9a-f]{64}$/.test(id)) return null;
    const r = raw as Partial<ContainerRecord>;
    if (typeof r !== 'object' || r === null || !Array.isArray(r.restarts)) return null;
    if (!r.restarts.every((t) => Number.isSafeInteger(t) && t > 0)) return null;
    // JSON.parse made every array afresh: they are kept as they are, not copied (a host with a
    // busy churn keeps ~1,400 records here: 8 ms to parse with copies and a clone, 3 ms without).
    const rec: ContainerRecord = { name: typeof r.name === 'string' ? r.name : '', restarts: r.restarts };
    if (r.samples !== undefined) {
      if (!Array.isArray(r.samples) || !r.samples.every(isSampleRow)) return null;
      rec.samples = r.samples;
    }
    if (r.forksRefused !== undefined) {
      if (!Number.isSafeInteger(r.forksRefused) || r.forksRefused < 0) return null;
      rec.forksRefused = r.forksRefused;
    }
    // A mark is expendable: a malformed one is dropped, never a reason to move the file aside.
    if (isCpuMark(r.cpuMark)) rec.cpuMark = r.cpuMark;
    out.containers[id] = rec;
  }
  const usage = parseUsageSection((d as { usage?: unknown }).usage);
  if (Object.keys(usage).length > 0) out.usage = usage;
  return out;
}

function isCpuMark(m: unknown): m is CpuMark {
  return Array.isArray(m) && m.length === 3 && Number.isSafeInteger(m[0]) && m[0] > 0 && Number.isSafeInteger(m[1]) && m[1] >= 0 && typeof m[2] === 'string';
}

function isSampleRow(row: unknown): row is SampleRow {
  if (!Array.isArray(row) || row.length !== 4 || !Number.isSafeInteger(row[0]) || row[0] <= 0) return false;
  for (let i = 1; i < 4; i++) {
    const v: unknown = row[i];
    if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) return false;
  }
  return true;
}

/**
 * Pure: the samples after adding `row`: not within SAMPLE_EVERY_MS of the previous one (then it is
 * dropped), fine for FINE_SAMPLES_MS, one per COARSE_EVERY_MS bucket beyond, none past KEEP_SAMPLES_MS.
 */
export function addSample(samples: readonly SampleRow[], row: SampleRow): SampleRow[] {
  const sorted = [...samples].sort((a, b) => a[0] - b[0]);
  const last = sorted[sorted.length - 1];
  if (!last || row[0] - last[0] >= SAMPLE_EVERY_MS) sorted.push(row);
  return downsample(sorted, row[0]);
}

export function downsample(sorted: SampleRow[], nowMs: number): SampleRow[] {
  const out: SampleRow[] = [];
  const buckets = new Set<number>();
  for (const s of sorted) {
    const age = nowMs - s[0];
    if (age > KEEP_SAMPLES_MS) continue;
    if (age > FINE_SAMPLES_MS) {
      const bucket = Math.floor(s[0] / COARSE_EVERY_MS);
      if (buckets.has(bucket)) continue;
      buckets.add(bucket);
    }
    out.push(s);
  }
  return out;
}

/** Pure: drop what can no longer matter, so the file stays small for a host's whole life. */
export function pruneState(doc: StateDoc, nowMs: number): StateDoc {
  const out = emptyState();
  for (const [id, rec] of Object.entries(doc.containers)) {
    const restarts = rec.restarts.filter((t) => t > nowMs - KEEP_RESTARTS_MS).sort((a, b) => a - b).slice(-MAX_RESTARTS_KEPT);
    const samples = downsample([...(rec.samples ?? [])].sort((a, b) => a[0] - b[0]), nowMs);
    if (restarts.length === 0 && samples.length === 0) continue;
    out.containers[id] = { name: rec.name, restarts };
    if (samples.length > 0) out.containers[id]!.samples = samples;
    if (rec.forksRefused !== undefined && samples.length > 0) out.containers[id]!.forksRefused = rec.forksRefused;
    if (rec.cpuMark && nowMs - rec.cpuMark[0] <= CPU_MARK_MAX_AGE_MS) out.containers[id]!.cpuMark = rec.cpuMark;
  }
  const usage = pruneUsageSection(doc.usage ?? {}, nowMs);
  if (Object.keys(usage).length > 0) out.usage = usage;
  return out;
}

/** The state file as a read-only command sees it: the document, and why it could not be used. */
export interface StateReading {
  doc: StateDoc;
  /** null when read, or when there is no file yet (nothing recorded is no problem). */
  problem: string | null;
}

/**
 * Reads the file without creating its directory, taking a lock or moving anything aside: for
 * explain and top, which only show. No lock is needed for one whole version, since every write
 * is an atomic rename. A file they cannot use stays as it is: moving aside one of a newer
 * pidwarden (another version) would wipe its restart history, and so its --restart-limit.
 */
export function readStateWithoutChanging(path: string): StateReading {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { doc: emptyState(), problem: code === 'ENOENT' ? null : `unreadable (${code ?? String(e)})` };
  }
  const doc = parseState(text);
  return doc ? { doc, problem: null } : { doc: emptyState(), problem: 'corrupt or of another version' };
}

/**
 * How long a read-modify-write waits for another pidwarden's lock on the state file. A holder
 * keeps it for one read, parse and atomic write of the file (milliseconds); one that keeps it
 * for seconds is stopped, frozen or stuck on its disk, and waiting on would freeze this process
 * (the monitor's loop, its /healthz and its SIGTERM handling) for as long.
 */
export const STATE_LOCK_WAIT_MS = 5_000;

export class StateStore {
  /** Set when the file cannot be used: pidwarden then remembers in memory only. */
  private memory: StateDoc | null = null;
  /** The state directory could not be created: no ladder lock can be taken in it either. */
  private noDirectory = false;
  private warned = new Set<string>();

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
    /** How long to wait for another pidwarden's lock on the state file (STATE_LOCK_WAIT_MS). */
    private readonly lockWaitMs = STATE_LOCK_WAIT_MS,
  ) {}

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warn(message);
  }

  private ensureDir(): boolean {
    if (this.memory) return false;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      return true;
    } catch (e) {
      this.memory = emptyState();
      this.noDirectory = true;
      this.warnOnce(`state file ${this.path}: cannot create its directory (${(e as NodeJS.ErrnoException).code ?? String(e)}); restart limits hold within this run only`);
      return false;
    }
  }

  /** The file as it is, without the lock and without moving anything aside; empty when unreadable. */
  private readWithoutLock(): StateDoc {
    return readStateWithoutChanging(this.path).doc;
  }

  /** Reads the file; moves an unreadable or corrupt one aside (with a warning) and starts afresh. */
  private readDoc(): StateDoc {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return emptyState();
      this.moveAside(`unreadable (${code ?? String(e)})`);
      return emptyState();
    }
    const doc = parseState(text);
    if (doc) return doc;
    this.moveAside('corrupt or of another version');
    return emptyState();
  }

  private moveAside(why: string): void {
    const aside = `${this.path}.bad-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.path, aside);
      this.warn(`state file ${this.path}: ${why}; moved to ${aside}, starting afresh`);
    } catch (e) {
      this.warn(`state file ${this.path}: ${why}, and cannot be moved aside (${(e as NodeJS.ErrnoException).code ?? String(e)}); starting afresh`);
    }
  }

  /** Runs `fn` on the current document under the state lock; writes it back when fn says so. */
  private withDoc<T>(write: boolean, fn: (doc: StateDoc) => T): T {
    if (!this.ensureDir()) {
      const result = fn(this.memory!);
      // Pruned as the file would be: a monitor left in memory by a full /var runs for weeks.
      if (write) this.memory = pruneState(this.memory!, Date.now());
      return result;
    }
    let release: (() => void) | null;
    try {
      release = lockFile(`${this.path}.lock`, { exclusive: write, wait: true, waitMs: this.lockWaitMs });
      if (release === null) throw new LockUnavailableError(`another process has held ${this.path}.lock for over ${this.lockWaitMs / 1000} s`);
    } catch (e) {
      // From here on a copy in memory: what the file holds now (it is replaced by a rename, so a
      // read without the lock sees one whole version), so that the restarts it records still count.
      this.memory = this.readWithoutLock();
      this.warnOnce(`state file ${this.path}: ${e instanceof LockUnavailableError ? e.message : String(e)}; working from a copy in memory, restart limits hold within this run only`);
      const result = fn(this.memory);
      if (write) this.memory = pruneState(this.memory, Date.now());
      return result;
    }
    try {
      const doc = this.readDoc();
      const result = fn(doc);
      if (write) this.writeDoc(doc);
      return result;
    } finally {
      release?.();
    }
  }

  /**
   * Writes the document; when that fails (EISDIR, ENOSPC, EROFS, EACCES: typically /var full on
   * the very host in trouble), keeps it in memory for the rest of the run. Dropping it instead lost
   * every restart attempt, and a monitor restarted the container every cycle: 3/1h never held.
   */
  private writeDoc(doc: StateDoc): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const pruned = pruneState(doc, Date.now());
    try {
      const text = JSON.stringify(pruned.usage ? { ...pruned, usage: serializeUsageSection(pruned.usage) } : pruned);
      writeFileSync(tmp, text + '\n', { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // never written
      }
      this.memory = pruned;
      this.warnOnce(`state file ${this.path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)}); restart limits hold within this run only`);
    }
  }

  /** Everything at once, for a command that looks at many containers (one read, one lock). */
  snapshot(): StateDoc {
    // A document read from the file is this caller's own; only the in-memory one is shared.
    return this.withDoc(false, (doc) => (doc === this.memory ? structuredClone(doc) : doc));
  }

  /** One write for a whole audit or monitor cycle: a sample per container when one is due. */
  recordSamples(entries: { id: string; name: string; row: SampleRow; forksRefused: number | null; cpuMark?: CpuMark }[]): void {
    if (entries.length === 0) return;
    this.withDoc(true, (doc) => {
      for (const e of entries) {
        const rec = doc.containers[e.id] ?? { name: e.name, restarts: [] };
        rec.name = e.name;
        if (e.cpuMark) rec.cpuMark = e.cpuMark;
        const before = rec.samples?.length ?? 0;
        rec.samples = addSample(rec.samples ?? [], e.row);
        // the refused count moves with the samples: "since the previous sample" means that one
        if (e.forksRefused !== null && (rec.samples.length !== before || rec.forksRefused === undefined)) rec.forksRefused = e.forksRefused;
        doc.containers[e.id] = rec;
      }
    });
  }

  restartHistory(id: string): number[] {
    return this.withDoc(false, (doc) => [...(doc.containers[id]?.restarts ?? [])]);
  }

  /** Counts an attempt, whatever its outcome: a restart that fails still used up the budget. */
  recordRestart(id: string, name: string, nowMs: number): void {
    this.withDoc(true, (doc) => {
      const rec = doc.containers[id] ?? { name, restarts: [] };
      rec.name = name;
      rec.restarts.push(nowMs);
      doc.containers[id] = rec;
    });
  }

  /** The idle rule's stored samples of these containers, for a container that started at startedAt. */
  usageSamples(wanted: { id: string; startedAt: number }[]): Map<string, UsageSample[]> {
    return this.withDoc(false, (doc) => {
      const out = new Map<string, UsageSample[]>();
      for (const w of wanted) {
        const rec = doc.usage?.[w.id];
        out.set(w.id, rec && rec.startedAt === w.startedAt ? [...rec.samples] : []);
      }
      return out;
    });
  }

  /**
   * Adds this pass's samples (thinned to what a window of windowMs needs) and forgets the
   * containers that are no longer running (`running`: every running container's ID).
   */
  recordUsage(added: { id: string; name: string; startedAt: number; sample: UsageSample }[], running: Set<string>, windowMs: number): void {
    this.withDoc(true, (doc) => {
      const usage: UsageSection = {};
      for (const [id, rec] of Object.entries(doc.usage ?? {})) if (running.has(id)) usage[id] = rec;
      for (const a of added) {
        const prev = usage[a.id];
        const samples = prev && prev.startedAt === a.startedAt ? prev.samples : [];
        usage[a.id] = { name: a.name, startedAt: a.startedAt, samples: keepSamples(samples, a.sample, windowMs) };
      }
      doc.usage = usage;
    });
  }

  /**
   * The ladder lock of one container: the release function, or null when another pidwarden holds
   * it. Without a usable state directory there is no lock to take, and the ladder runs (warned once).
   */
  tryLockContainer(id: string): (() => void) | null {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`not a container ID: ${id}`);
    const dir = join(dirname(this.path), 'locks');
    try {
      if (this.noDirectory) throw new LockUnavailableError('no state directory');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return lockFile(join(dir, `${id}.lock`), { exclusive: true, wait: false });
    } catch (e) {
      this.warnOnce(`ladder locks in ${dir} unavailable (${e instanceof Error ? e.message : String(e)}); two pidwardens could act on one container at once`);
      return () => {};
    }
  }
}
