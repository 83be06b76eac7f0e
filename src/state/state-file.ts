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
// file that cannot be written (/var full or read-only) leaves pidwarden working from memory, with
// one warning: none of them ever stops a cleanup. Each later use of the store tries the file again;
// once it is usable, what was recorded in memory meanwhile is merged into it (mergeState), and the
// file is used again, with a line saying so. A monitor runs for weeks: one disk stall must not
// split its restart history from cron's for the rest of its life.
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

/** The latest moment a record speaks of: its last restart, sample or CPU mark (0 when none). */
function lastActivity(rec: ContainerRecord): number {
  return Math.max(0, ...rec.restarts, ...(rec.samples ?? []).map((s) => s[0]), rec.cpuMark?.[0] ?? 0);
}

/** Two sample series as one, with addSample's spacing: a row within SAMPLE_EVERY_MS of the one kept before it is dropped. */
function mergeSamples(a: readonly SampleRow[], b: readonly SampleRow[], nowMs: number): SampleRow[] {
  const kept: SampleRow[] = [];
  for (const row of [...a, ...b].sort((x, y) => x[0] - y[0])) {
    const last = kept[kept.length - 1];
    if (!last || row[0] - last[0] >= SAMPLE_EVERY_MS) kept.push(row);
  }
  return downsample(kept, nowMs);
}

/**
 * Pure: the file's document with what a store recorded in memory while the file was unusable
 * (`mine`, which also holds the file's records as they were when it fell back). Restart attempts
 * are a union by timestamp, each once: every attempt either side made keeps counting against
 * --restart-limit, and one copied from the file is not counted twice. Growth samples are merged by
 * time with addSample's spacing. A single value (name, forksRefused, CPU mark, a container's usage
 * record) is the newest side's. The result is pruned as a write would prune it; `restartsAdded` is
 * how many attempts only memory knew of.
 */
export function mergeState(file: StateDoc, mine: StateDoc, nowMs: number): { doc: StateDoc; restartsAdded: number } {
  const out: StateDoc = { version: STATE_VERSION, containers: { ...file.containers } };
  let restartsAdded = 0;
  for (const [id, m] of Object.entries(mine.containers)) {
    const f = file.containers[id];
    if (!f) {
      restartsAdded += m.restarts.length;
      out.containers[id] = structuredClone(m);
      continue;
    }
    const known = new Set(f.restarts);
    const added = [...new Set(m.restarts)].filter((t) => !known.has(t));
    restartsAdded += added.length;
    const newer = lastActivity(m) > lastActivity(f) ? m : f;
    const rec: ContainerRecord = { name: newer.name || f.name || m.name, restarts: [...f.restarts, ...added].sort((a, b) => a - b) };
    if (f.samples || m.samples) rec.samples = mergeSamples(f.samples ?? [], m.samples ?? [], nowMs);
    // the refused count belongs to the last sample: the side that took it
    const lastSample = (r: ContainerRecord) => r.samples?.[r.samples.length - 1]?.[0] ?? 0;
    const refusedFrom = m.forksRefused !== undefined && (f.forksRefused === undefined || lastSample(m) > lastSample(f)) ? m : f;
    if (refusedFrom.forksRefused !== undefined) rec.forksRefused = refusedFrom.forksRefused;
    const mark = m.cpuMark && (!f.cpuMark || m.cpuMark[0] > f.cpuMark[0]) ? m.cpuMark : f.cpuMark;
    if (mark) rec.cpuMark = [...mark];
    out.containers[id] = rec;
  }
  if (file.usage || mine.usage) {
    const usage: UsageSection = { ...(file.usage ?? {}) };
    const lastT = (r: UsageSection[string]) => Math.max(r.startedAt, ...r.samples.map((s) => s.t));
    for (const [id, m] of Object.entries(mine.usage ?? {})) {
      const f = usage[id];
      if (!f || lastT(m) > lastT(f)) usage[id] = structuredClone(m);
    }
    out.usage = usage;
  }
  return { doc: pruneState(out, nowMs), restartsAdded };
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

/**
 * How long a store working from memory waits for the lock when it tries the file again. A holder
 * that already kept it for STATE_LOCK_WAIT_MS is likely still stuck; waiting the full time again at
 * every use would freeze a monitor's cycle for seconds per container, for as long as it stays stuck,
 * while a healthy holder (milliseconds) is waited for.
 */
export const STATE_LOCK_RETRY_WAIT_MS = 100;

const errorCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** The version of a state file written by a newer pidwarden (a whole number above ours), else null. */
function newerVersion(text: string): number | null {
  try {
    const v = (JSON.parse(text) as { version?: unknown } | null)?.version;
    return typeof v === 'number' && Number.isSafeInteger(v) && v > STATE_VERSION ? v : null;
  } catch {
    return null;
  }
}

export class StateStore {
  /**
   * Set while the file cannot be used (one episode): the document pidwarden works from meanwhile,
   * the file's records as they were plus this store's own. Each use tries the file again and, when
   * it is usable, merges this into it and goes back to the file.
   */
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

  /**
   * Starts working from memory, warned once per episode: a monitor whose /var stays full for a
   * week would otherwise say so at every use. `seed` is what the file held, when it could be read.
   */
  private fallBack(why: string, seed: () => StateDoc): StateDoc {
    if (this.memory) return this.memory;
    this.memory = seed();
    this.warn(`state file ${this.path}: ${why}; working from memory and trying the file again at each use (until then, restart limits hold within this run only)`);
    return this.memory;
  }

  /** Creates the state directory (again, after it could not be); the error when it cannot be. */
  private makeDirectory(): unknown {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.noDirectory = false;
      return null;
    } catch (e) {
      this.noDirectory = true;
      return e;
    }
  }

  /** The file as it is, without the lock and without moving anything aside; empty when unreadable. */
  private readWithoutLock(): StateDoc {
    return readStateWithoutChanging(this.path).doc;
  }

  /**
   * Reads the file; moves an unreadable or corrupt one aside (with a warning) and starts afresh. A
   * file of a newer version is neither: its version, and the store works from memory (withDoc).
   */
  private readDoc(): StateDoc | { newer: number } {
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
    // A newer pidwarden's file (a monitor upgraded beside an older cron cleanup or audit): moved
    // aside, or replaced by this version's, it lost that pidwarden's restart history at each of
    // our writes (an audit every minute), and with it its --restart-limit.
    const newer = newerVersion(text);
    if (newer !== null) return { newer };
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

  /** Runs `fn` on the document in memory while the file cannot be used. */
  private inMemory<T>(doc: StateDoc, write: boolean, fn: (doc: StateDoc) => T): T {
    const result = fn(doc);
    // Pruned as the file would be: a monitor left in memory by a full /var runs for weeks.
    if (write) this.memory = pruneState(doc, Date.now());
    return result;
  }

  /**
   * Runs `fn` on the current document under the state lock; writes it back when fn says so. A
   * store working from memory tries the file first, as any other use would: with the lock (waited
   * for STATE_LOCK_RETRY_WAIT_MS at most) it merges its memory into the file and writes that,
   * a read included, since the file lacks those records until written.
   */
  private withDoc<T>(write: boolean, fn: (doc: StateDoc) => T): T {
    const retrying = this.memory !== null;
    const dirError = this.makeDirectory();
    if (dirError) return this.inMemory(this.fallBack(`cannot create its directory (${errorCode(dirError)})`, emptyState), write, fn);
    let release: (() => void) | null;
    try {
      const waitMs = retrying ? Math.min(this.lockWaitMs, STATE_LOCK_RETRY_WAIT_MS) : this.lockWaitMs;
      release = lockFile(`${this.path}.lock`, { exclusive: write || retrying, wait: true, waitMs });
      if (release === null) throw new LockUnavailableError(`another process has held ${this.path}.lock for over ${waitMs / 1000} s`);
    } catch (e) {
      // From here on a copy in memory: what the file holds now (it is replaced by a rename, so a
      // read without the lock sees one whole version), so that the restarts it records still count.
      const doc = this.fallBack(e instanceof LockUnavailableError ? e.message : String(e), () => this.readWithoutLock());
      return this.inMemory(doc, write, fn);
    }
    try {
      const read = this.readDoc();
      if ('newer' in read) {
        const why = `written by a newer pidwarden (version ${read.newer}; this one reads ${STATE_VERSION}), left as it is`;
        return this.inMemory(this.fallBack(why, emptyState), write, fn);
      }
      let doc = read;
      let restartsAdded = 0;
      if (this.memory) ({ doc, restartsAdded } = mergeState(doc, this.memory, Date.now()));
      const result = fn(doc);
      if (write || retrying) this.writeDoc(doc, retrying ? restartsAdded : null);
      return result;
    } finally {
      release?.();
    }
  }

  /**
   * Writes the document; when that fails (EISDIR, ENOSPC, EROFS, EACCES: typically /var full on
   * the very host in trouble), keeps it in memory until a later use can write it. Dropping it instead
   * lost every restart attempt, and a monitor restarted the container every cycle: 3/1h never held.
   * `merged`: how many restarts only memory held, when this write ends an episode in memory.
   */
  private writeDoc(doc: StateDoc, merged: number | null): void {
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
      this.fallBack(`cannot write (${errorCode(e)})`, () => pruned);
      this.memory = pruned;
      return;
    }
    if (merged !== null) {
      this.memory = null;
      this.warn(`state file ${this.path}: usable again; ${merged === 0 ? 'no' : merged} restart${merged === 1 ? '' : 's'} recorded in memory meanwhile merged into it, restart limits are shared again`);
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
      // the state directory may be back since it could not be created: try it, as any use does
      if (this.noDirectory && this.makeDirectory()) throw new LockUnavailableError('no state directory');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return lockFile(join(dir, `${id}.lock`), { exclusive: true, wait: false });
    } catch (e) {
      this.warnOnce(`ladder locks in ${dir} unavailable (${e instanceof Error ? e.message : String(e)}); two pidwardens could act on one container at once`);
      return () => {};
    }
  }
}
