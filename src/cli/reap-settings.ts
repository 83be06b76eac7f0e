// The settings of `reap`, `monitor --reap` and audit's flood lines, in one block: their specs,
// which existing settings reap shares, and their validation. settings.ts merges them in.
import { UsageError } from '../errors.ts';
import { parseDuration } from '../decide/duration.ts';
import { DEFAULT_OWNER_LABELS, type OwnerLabel, type ReapRules } from '../decide/reap.ts';
import type { CommandName, SettingSpec } from './settings.ts';

const FLOODS: readonly CommandName[] = ['reap', 'monitor', 'audit'];

export const REAP_SETTINGS: readonly SettingSpec[] = [
  { flag: 'reap', kind: 'bool', commands: ['monitor'], default: false, describe: 'also stop orphaned, aged, idle and piled-up containers every cycle (see reap --help)' },
  { flag: 'owner-label', kind: 'list', commands: FLOODS, default: [], describe: `owner label: KEY (its value is a PID) or KEY=REGEX (first group is the PID); orphaned when that PID is not alive on this host (repeatable; ${DEFAULT_OWNER_LABELS.join(', ')} always known)` },
  { flag: 'orphan-unlabelled', kind: 'bool', commands: FLOODS, default: false, describe: 'a selected container with no owner label is an orphan too (mcpmon\'s rule)' },
  { flag: 'max-age', kind: 'string', commands: FLOODS, describe: 'stop containers running longer than this (90s, 30m, 1h, 2d; label pidwarden.max-age overrides)' },
  { flag: 'started-label', kind: 'string', commands: FLOODS, describe: "label holding the start time in seconds or ms since the epoch (default: the container's start)" },
  { flag: 'idle-cpu', kind: 'number', commands: FLOODS, default: 0.5, describe: 'idle below this CPU % of one core' },
  { flag: 'idle-for', kind: 'string', commands: FLOODS, describe: 'stop containers idle (CPU under --idle-cpu, no block or network I/O growth) this long (5m, 1h)' },
  { flag: 'max-per-group', kind: 'int', commands: FLOODS, describe: 'at most N running containers per group (image or --group-label); the oldest beyond N go' },
  { flag: 'group-label', kind: 'string', commands: FLOODS, describe: 'group containers by the value of this label instead of their image' },
  { flag: 'remove', kind: 'bool', commands: ['reap', 'monitor'], default: false, describe: 'remove stopped containers (not their volumes; never compose-managed ones; AutoRemove ones go by themselves)' },
];

/**
 * Existing settings that reap also takes. It calls the engine like the others: without `timeout`,
 * PIDWARDEN_TIMEOUT=60 left reap at 10 s; without `concurrency`, it inspected every container at once.
 */
export const SHARED_WITH_REAP = new Set(['container', 'label', 'all', 'exclude', 'docker-host', 'cgroup-root', 'proc-root', 'timeout', 'concurrency', 'stop-timeout', 'dry-run', 'log-file', 'state-file']);
/** audit reads the idle samples (never writes them). */
export const SHARED_WITH_AUDIT = new Set(['state-file']);

/** The reap rules as settings (ownerLabels: the known ones, mcpmon.pid, and --owner-label's). */
export interface ReapSettings extends Omit<ReapRules, 'localEngine'> {
  /** monitor --reap */
  reap: boolean;
  remove: boolean;
}

function ownerLabel(text: string): OwnerLabel {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (key === '') throw new UsageError(`--owner-label: expected KEY or KEY=REGEX, got "${text}"`);
  if (eq < 0) return { key };
  let pattern: RegExp;
  try {
    pattern = new RegExp(text.slice(eq + 1), 'u');
  } catch {
    throw new UsageError(`--owner-label ${key}: not a valid regular expression: ${text.slice(eq + 1)}`);
  }
  // One capture group at least: the PID. A test match on an empty string says nothing; count groups.
  if (new RegExp(`${pattern.source}|`, 'u').exec('')!.length < 2) throw new UsageError(`--owner-label ${key}: the regular expression needs a group around the PID`);
  return { key, pattern };
}

export function reapSettings(v: Record<string, unknown>): ReapSettings {
  const given = ((v['owner-label'] as string[] | undefined) ?? []).map(ownerLabel);
  const ownerLabels = [...given, ...DEFAULT_OWNER_LABELS.filter((k) => !given.some((g) => g.key === k)).map((key) => ({ key }))];
  const duration = (flag: string): number | undefined => {
    const text = v[flag] as string | undefined;
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === null) throw new UsageError(`--${flag}: expected a duration such as 90s, 30m, 1h, 2d, got "${text}"`);
    return ms;
  };
  const idleCpu = v['idle-cpu'] as number;
  if (!(idleCpu > 0 && idleCpu <= 100 * 1024)) throw new UsageError('--idle-cpu: must be more than 0 (percent of one core)');
  const maxPerGroup = v['max-per-group'] as number | undefined;
  if (maxPerGroup !== undefined && maxPerGroup < 1) throw new UsageError('--max-per-group: must be at least 1');
  const maxAgeMs = duration('max-age');
  const idleForMs = duration('idle-for');
  return {
    reap: v['reap'] === true,
    ownerLabels,
    orphanUnlabelled: v['orphan-unlabelled'] === true,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(v['started-label'] === undefined ? {} : { startedLabel: v['started-label'] as string }),
    idleCpuPercent: idleCpu,
    ...(idleForMs === undefined ? {} : { idleForMs }),
    ...(maxPerGroup === undefined ? {} : { maxPerGroup }),
    ...(v['group-label'] === undefined ? {} : { groupLabel: v['group-label'] as string }),
    remove: v['remove'] === true,
  };
}
