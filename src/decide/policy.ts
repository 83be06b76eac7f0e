// Pure: one container's effective policy, from the global settings and its `pidwarden.*` labels.
// A label is more specific than a flag and wins for its container, except that the command line
// can only narrow what a label allows: `--keep`, `--max-procs`, `--pids-ratio` given there raise
// a label's lower value, `--match` given there must match too, `--steps` intersects a label's
// steps, a `--restart` given there can make a label's rule stricter, never looser, and a
// `--restart-limit` given there caps a label's limit; a label's
// `pidwarden.protect` adds to --protect, never removes from it. (--dry-run
// and --emergency have no label: nothing can widen them.) A malformed label value makes the
// container an error, reported by name and value; it never falls back silently to the global value.
import type { Origin, RestartRule, Settings } from '../cli/settings.ts';
import { RESTART_RULES } from '../cli/settings.ts';
import type { StepName } from './ladder.ts';
import { STEPS } from './ladder.ts';
import { formatDuration } from './duration.ts';
import { parseRestartLimit, RESTART_LIMIT_FORM, type RestartLimit } from './restart-policy.ts';
import { ENABLE_EXPECTED, ENABLE_LABEL, enablement } from './enable-label.ts';
import { runawayPatternWhy } from './match-pattern.ts';

export const LABEL_PREFIX = 'pidwarden.';

export interface ContainerPolicy {
  maxProcs: number;
  pidsRatio: number;
  keep: number;
  steps: StepName[];
  match: RegExp[];
  /**
   * Set when --match on the command line narrows a label's pidwarden.match: a runaway process then
   * matches one of `match` and one of these too.
   */
  matchAlso?: RegExp[];
  protect: RegExp[];
  npxOrphans: boolean;
  restart: RestartRule;
  restartLimit: RestartLimit;
}

export type PolicySource = Origin | 'label';
export type PolicySources = Record<Exclude<keyof ContainerPolicy, 'matchAlso'>, PolicySource>;

export type PolicyResult =
  | { ok: true; policy: ContainerPolicy; from: PolicySources }
  | { ok: false; label: string; value: string; error: string };

/** A parsed value, or why the text is not one. */
type Parser<T> = (value: string) => T | Invalid;

class Invalid {
  constructor(readonly why: string) {}
}
const invalid = (why: string) => new Invalid(why);

const LABELS: { [K in keyof ContainerPolicy]?: { label: string; parse: Parser<ContainerPolicy[K]> } } = {
  maxProcs: { label: 'pidwarden.max-procs', parse: (v) => wholeAtLeast(v, 1) },
  pidsRatio: {
    label: 'pidwarden.pids-ratio',
    parse: (v) => {
      const n = /^\s*(\d+\.?\d*|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
      return n > 0 && n <= 1 ? n : invalid('expected a number in (0, 1]');
    },
  },
  keep: { label: 'pidwarden.keep', parse: (v) => wholeAtLeast(v, 0) },
  steps: { label: 'pidwarden.steps', parse: parseSteps },
  match: { label: 'pidwarden.match', parse: parseRunawayPattern },
  protect: { label: 'pidwarden.protect', parse: parseRegex },
  restart: {
    label: 'pidwarden.restart',
    parse: (v) => ((RESTART_RULES as readonly string[]).includes(v.trim()) ? (v.trim() as RestartRule) : invalid(`expected ${RESTART_RULES.join(', ')}`)),
  },
  restartLimit: { label: 'pidwarden.restart-limit', parse: (v) => parseRestartLimit(v) ?? invalid(`expected ${RESTART_LIMIT_FORM}`) },
};

/** The label names pidwarden reads, for the README and --help. */
export const POLICY_LABELS = Object.values(LABELS).map((l) => l!.label);

function wholeAtLeast(v: string, min: number): number | Invalid {
  if (!/^\s*\d+\s*$/.test(v)) return invalid('expected a whole number');
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min ? n : invalid(`expected a whole number of at least ${min}`);
}

function parseSteps(v: string): StepName[] | Invalid {
  const steps = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (steps.length === 0) return invalid('expected a list of steps');
  const bad = steps.find((s) => !(STEPS as readonly string[]).includes(s));
  return bad === undefined ? (steps as StepName[]) : invalid(`unknown step "${bad}" (use ${STEPS.join(',')})`);
}

function parseRegex(v: string): RegExp[] | Invalid {
  try {
    return [new RegExp(v, 'u')];
  } catch {
    return invalid('not a valid regular expression');
  }
}

function parseRunawayPattern(v: string): RegExp[] | Invalid {
  const parsed = parseRegex(v);
  if (parsed instanceof Invalid) return parsed;
  const why = runawayPatternWhy(parsed[0]!);
  return why === null ? parsed : invalid(why);
}

const STRICTNESS: Record<RestartRule, number> = { never: 0, evidence: 1, always: 2 };

export function globalPolicy(s: Settings): ContainerPolicy {
  return {
    maxProcs: s.maxProcs,
    pidsRatio: s.pidsRatio,
    keep: s.keep,
    steps: s.steps,
    match: s.match,
    protect: s.protect,
    npxOrphans: s.npxOrphans,
    restart: s.restartRule,
    restartLimit: s.restartLimit,
  };
}

const SETTING_OF: Record<keyof PolicySources, string> = {
  maxProcs: 'max-procs',
  pidsRatio: 'pids-ratio',
  keep: 'keep',
  steps: 'steps',
  match: 'match',
  protect: 'protect',
  npxOrphans: 'npx-orphans',
  restart: 'restart',
  restartLimit: 'restart-limit',
};

export function containerPolicy(s: Settings, labels: Record<string, string>): PolicyResult {
  // Whether to act at all comes first: a `no` or `0` meant to opt out must not let --all act on it.
  const enable = enablement(labels);
  if (typeof enable === 'object') return { ok: false, label: ENABLE_LABEL, value: enable.malformed, error: ENABLE_EXPECTED };
  const policy = globalPolicy(s);
  const from = {} as PolicySources;
  for (const key of Object.keys(SETTING_OF) as (keyof PolicySources)[]) from[key] = s.origins[SETTING_OF[key]] ?? 'default';
  for (const key of Object.keys(LABELS) as (keyof PolicySources)[]) {
    const spec = LABELS[key]!;
    const raw = labels[spec.label];
    if (raw === undefined) continue;
    const parsed = (spec.parse as Parser<unknown>)(raw);
    if (parsed instanceof Invalid) return { ok: false, label: spec.label, value: raw, error: parsed.why };
    (policy as unknown as Record<string, unknown>)[key] = parsed;
    from[key] = 'label';
  }
  // Protection only adds up: a label's `pidwarden.protect` joins the operator's --protect (flag,
  // env or config) instead of replacing it, or a container's owner could make a process that the
  // operator protected on every container a victim in theirs.
  if (from.protect === 'label') policy.protect = [...s.protect, ...policy.protect];
  // The command line narrows what a label allows; it never widens it.
  const narrowedByFlag = (key: keyof PolicySources) => from[key] === 'label' && s.origins[SETTING_OF[key]] === 'flag';
  // More kept, higher thresholds: fewer victims, later. `--keep 3` keeps 3 under pidwarden.keep=0.
  for (const key of ['keep', 'maxProcs', 'pidsRatio'] as const) {
    if (narrowedByFlag(key) && s[key] > policy[key]) {
      policy[key] = s[key];
      from[key] = 'flag';
    }
  }
  // A label's pattern cannot make runaway what --match on the command line does not name.
  if (narrowedByFlag('match')) policy.matchAlso = s.match;
  if (narrowedByFlag('steps')) {
    const narrowed = policy.steps.filter((st) => s.steps.includes(st));
    if (narrowed.length !== policy.steps.length) from.steps = 'flag';
    policy.steps = narrowed;
  }
  // A label's restart limit is held to --restart-limit given there: at most the fewer restarts over
  // the longer window, which keeps within both (100/1s on the label never beats 1/1d on the flag).
  if (narrowedByFlag('restartLimit')) {
    const count = Math.min(policy.restartLimit.count, s.restartLimit.count);
    const windowMs = Math.max(policy.restartLimit.windowMs, s.restartLimit.windowMs);
    if (count !== policy.restartLimit.count || windowMs !== policy.restartLimit.windowMs) {
      policy.restartLimit = { count, windowMs };
      from.restartLimit = 'flag';
    }
  }
  if (narrowedByFlag('restart') && STRICTNESS[s.restartRule] < STRICTNESS[policy.restart]) {
    policy.restart = s.restartRule;
    from.restart = 'flag';
  }
  return { ok: true, policy, from };
}

/** The policy as the audit's JSON shows it: each value with where it came from. */
export function describePolicy(r: PolicyResult & { ok: true }): Record<string, { value: unknown; from: PolicySource }> {
  const p = r.policy;
  const show: Record<keyof PolicySources, unknown> = {
    maxProcs: p.maxProcs,
    pidsRatio: p.pidsRatio,
    keep: p.keep,
    steps: p.steps,
    match: p.matchAlso ? { anyOf: p.match.map((re) => re.source), andAnyOf: p.matchAlso.map((re) => re.source) } : p.match.map((re) => re.source),
    protect: p.protect.map((re) => re.source),
    npxOrphans: p.npxOrphans,
    restart: p.restart,
    restartLimit: `${p.restartLimit.count}/${formatDuration(p.restartLimit.windowMs)}`,
  };
  const out: Record<string, { value: unknown; from: PolicySource }> = {};
  for (const key of Object.keys(show) as (keyof PolicySources)[]) out[key] = { value: show[key], from: r.from[key] };
  return out;
}
