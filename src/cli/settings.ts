// Every setting pidwarden understands, in one table, and the one place where flags, environment,
// config file and defaults meet. Precedence: flags > env (PIDWARDEN_<FLAG>) > config file > defaults.
// Values arrive as strings from all three outer sources and are validated here, so a malformed
// value is the same one-line usage error wherever it came from.
import { UsageError } from '../errors.ts';
import { STEPS, type StepName } from '../decide/ladder.ts';
import { parseRestartLimit, RESTART_LIMIT_FORM, type RestartLimit } from '../decide/restart-policy.ts';
import { DEFAULT_DOCKER_HOST } from '../engine/client.ts';
import { isContainerReference } from '../engine/reference.ts';
import { defaultConcurrency } from '../bounded.ts';
import { parseDuration } from '../decide/duration.ts';
import { runawayPatternWhy } from '../decide/match-pattern.ts';
import { REAP_SETTINGS, reapSettings, SHARED_WITH_AUDIT, SHARED_WITH_REAP, type ReapSettings } from './reap-settings.ts';
import { parseMetricsAddr, type MetricsAddr } from '../metrics/server.ts';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../notify/format.ts';
import { webhookUrlProblem } from '../notify/redact.ts';

export type CommandName = 'audit' | 'cleanup' | 'monitor' | 'explain' | 'reap' | 'top';
type Kind = 'int' | 'number' | 'string' | 'bool' | 'list';

export interface SettingSpec {
  flag: string;
  kind: Kind;
  describe: string;
  commands: readonly CommandName[];
  default?: unknown;
  /** A command whose default differs (top refreshes every 2 s, the monitor cycles every 30 s). */
  defaultFor?: Partial<Record<CommandName, unknown>>;
}

const ALL: readonly CommandName[] = ['audit', 'cleanup', 'monitor', 'top'];
const ACTING: readonly CommandName[] = ['cleanup', 'monitor'];
/** Everything that observes and judges: explain too (it names its one container itself). */
const JUDGING: readonly CommandName[] = ['audit', 'cleanup', 'monitor', 'explain', 'top'];
/**
 * The ladder's policy. explain prints the plan cleanup would follow, and top shows explain's plan
 * on Enter: both take these too, or a PIDWARDEN_PROTECT in the environment they share with a cron
 * cleanup would be ignored and their plan would kill what cleanup never touches.
 */
const PLANNING: readonly CommandName[] = ['cleanup', 'monitor', 'explain', 'top'];

/** Where cleanup and monitor keep what must outlive one run: restart history, locks. */
export const DEFAULT_STATE_FILE = '/var/lib/pidwarden/state.json';
export const RESTART_RULES = ['never', 'evidence', 'always'] as const;
export type RestartRule = (typeof RESTART_RULES)[number];

const BASE_SETTINGS: readonly SettingSpec[] = [
  { flag: 'container', kind: 'list', commands: ALL, describe: 'container name, ID or ID prefix of 12+ hex digits to act on (repeatable); audit default: all running' },
  { flag: 'label', kind: 'list', commands: ALL, describe: 'only containers with this label, KEY or KEY=VALUE (repeatable)' },
  { flag: 'all', kind: 'bool', commands: ACTING, default: false, describe: 'act on every running container (default: only those labelled pidwarden.enable=true)' },
  // explain too: its plan says that cleanup leaves an excluded container alone (a PIDWARDEN_EXCLUDE shared with cron)
  { flag: 'exclude', kind: 'list', commands: [...ALL, 'explain'], default: [], describe: 'never look at or act on this container, NAME or ID (repeatable; always wins)' },
  { flag: 'max-procs', kind: 'int', commands: JUDGING, default: 15, describe: 'critical above this many processes in a container' },
  { flag: 'pids-ratio', kind: 'number', commands: JUDGING, default: 0.8, describe: 'critical when pids.current >= ratio x pids.max (0-1]' },
  { flag: 'match', kind: 'list', commands: JUDGING, default: ['^npm exec '], describe: 'regex for the runaway processes (repeatable; never one that matches every command line)' },
  { flag: 'npx-orphans', kind: 'bool', commands: JUDGING, default: true, describe: "also count as runaway a process running a package from npm's npx cache (/_npx/), such as a server whose npm exec died" },
  { flag: 'docker-host', kind: 'string', commands: JUDGING, describe: `engine address (default: DOCKER_HOST, else ${DEFAULT_DOCKER_HOST})` },
  { flag: 'cgroup-root', kind: 'string', commands: JUDGING, describe: 'where the host cgroup fs is mounted (default: from /proc/self/mountinfo)' },
  { flag: 'proc-root', kind: 'string', commands: JUDGING, default: '/proc', describe: "the host's /proc" },
  { flag: 'proc-source', kind: 'string', commands: JUDGING, default: 'ps', describe: 'process tables from "ps" in the container (host /proc as fallback) or straight from the "host" /proc (local engine; no exec)' },
  { flag: 'concurrency', kind: 'int', commands: JUDGING, describe: 'containers observed at once (default: 4 per CPU)' },
  { flag: 'timeout', kind: 'number', commands: JUDGING, default: 10, describe: 'seconds any one engine call or probe in a container may take before it counts as failed' },
  { flag: 'json', kind: 'bool', commands: ['audit', 'explain'], default: false, describe: 'print one JSON document instead of the table' },
  { flag: 'prom-file', kind: 'string', commands: ['audit'], describe: 'also write Prometheus text to PATH (atomically)' },
  { flag: 'keep', kind: 'int', commands: PLANNING, default: 1, describe: 'dedupe keeps the newest N of each duplicate command line' },
  { flag: 'protect', kind: 'list', commands: PLANNING, default: [], describe: 'regex of processes never to kill (repeatable)' },
  { flag: 'grace', kind: 'number', commands: ACTING, default: 5, describe: 'seconds between SIGTERM and SIGKILL of killed processes' },
  { flag: 'stop-timeout', kind: 'number', commands: PLANNING, describe: "seconds a restart (or reap's stop) waits for the container to stop (default: the container's StopTimeout, else the engine's; a negative StopTimeout has no end: no restart or stop without this)" },
  { flag: 'restart', kind: 'string', commands: PLANNING, default: 'evidence', describe: 'when the restart step may run: evidence (runaway trees or zombies put it over), always, never' },
  { flag: 'steps', kind: 'string', commands: PLANNING, default: STEPS.join(','), describe: 'ladder steps allowed, in order: dedupe,oldest,all,restart' },
  { flag: 'emergency', kind: 'bool', commands: PLANNING, default: false, describe: 'start the ladder at "all"' },
  { flag: 'dry-run', kind: 'bool', commands: ACTING, default: false, describe: 'decide and log, signal nothing' },
  { flag: 'log-file', kind: 'string', commands: [...ACTING, 'top'], describe: 'append JSONL here (default: stdout); top shows its last actions' },
  { flag: 'interval', kind: 'number', commands: ['monitor', 'top'], default: 30, defaultFor: { top: 2 }, describe: 'seconds between cycles (top: between refreshes)' },
  { flag: 'restart-limit', kind: 'string', commands: PLANNING, default: '3/1h', describe: 'at most N restart attempts per container per window, N/WINDOW (s,m,h,d; N at most 100, WINDOW at most 7d), counted across runs in --state-file' },
  { flag: 'state-file', kind: 'string', commands: JUDGING, default: DEFAULT_STATE_FILE, describe: 'restart history, growth samples and locks, shared by audit, cleanup and monitor' },
  { flag: 'warn-within', kind: 'string', commands: ['audit', 'explain'], default: '6h', describe: 'warn when the growth forecast reaches a limit within this time (s, m, h, d)' },
  { flag: 'pid-file', kind: 'string', commands: ['monitor'], describe: 'write our PID here; refuse to start if another monitor holds it' },
  { flag: 'heartbeat', kind: 'number', commands: ['monitor'], default: 300, describe: 'seconds between heartbeat lines' },
  // Metrics and notifications (README "Metrics and notifications").
  { flag: 'metrics-addr', kind: 'string', commands: ['monitor'], describe: 'serve /metrics and /healthz on HOST:PORT, e.g. 127.0.0.1:9723 (default: no listening at all)' },
  { flag: 'on-action', kind: 'string', commands: ACTING, describe: 'run this program (no arguments, no shell) after each action, the facts in PIDWARDEN_* environment variables' },
  { flag: 'webhook', kind: 'string', commands: ACTING, describe: 'POST a summary of each action to this http(s) URL' },
  { flag: 'webhook-format', kind: 'string', commands: ACTING, default: 'json', describe: `webhook body: ${WEBHOOK_FORMATS.join(', ')}` },
  { flag: 'notify-every', kind: 'number', commands: ACTING, default: 300, describe: 'seconds: at most one webhook message per container in this window; what else happened is counted into the next' },
];

/** The table above, with `reap` (and audit's idle samples) added to what they share, and reap's own. */
export const SETTINGS: readonly SettingSpec[] = [
  ...BASE_SETTINGS.map((spec) => {
    const extra: CommandName[] = [...(SHARED_WITH_REAP.has(spec.flag) ? ['reap' as const] : []), ...(SHARED_WITH_AUDIT.has(spec.flag) ? ['audit' as const] : [])];
    return extra.length ? { ...spec, commands: [...spec.commands, ...extra] } : spec;
  }),
  ...REAP_SETTINGS,
];

export function envName(flag: string): string {
  return 'PIDWARDEN_' + flag.toUpperCase().replace(/-/g, '_');
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Where a setting's value came from: the audit shows it beside each container's policy. */
export type Origin = 'flag' | 'env' | 'config' | 'default';

export interface Settings extends ReapSettings {
  containers: string[];
  labels: string[];
  /** --all: every running container (cleanup, monitor). */
  all: boolean;
  exclude: string[];
  npxOrphans: boolean;
  maxProcs: number;
  pidsRatio: number;
  match: RegExp[];
  dockerHost: string;
  cgroupRoot?: string;
  procRoot: string;
  procSource: 'ps' | 'host';
  timeoutSeconds: number;
  /** How many containers are observed at once (probes run concurrently, bounded). */
  concurrency: number;
  json: boolean;
  promFile?: string;
  keep: number;
  protect: RegExp[];
  graceSeconds: number;
  /** undefined: the container's own StopTimeout, else the engine's default. */
  stopTimeoutSeconds?: number;
  restartRule: RestartRule;
  steps: StepName[];
  emergency: boolean;
  dryRun: boolean;
  logFile?: string;
  intervalSeconds: number;
  restartLimit: RestartLimit;
  pidFile?: string;
  heartbeatSeconds: number;
  stateFile: string;
  warnWithinSeconds: number;
  /** --metrics-addr: where the monitor serves /metrics and /healthz; undefined: never listens. */
  metricsAddr?: MetricsAddr;
  onAction?: string;
  webhook?: string;
  webhookFormat: WebhookFormat;
  notifyEverySeconds: number;
  /** Per setting (flag name), where its value came from. */
  origins: Record<string, Origin>;
}

type Raw = Record<string, unknown>;

/**
 * Merge the sources for one command. `flags` holds only what was given on the command line
 * (yargs output, keyed by flag name); `env` is process.env; `config` the parsed config file.
 */
export function resolveSettings(command: CommandName, flags: Raw, env: Record<string, string | undefined>, config: Raw): Settings {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const origins: Record<string, Origin> = {};
  for (const spec of SETTINGS) {
    origins[spec.flag] = 'default';
    if (!spec.commands.includes(command)) {
      // One env or config file can serve audit and monitor: what a command doesn't use isn't checked.
      values[spec.flag] = spec.default;
      continue;
    }
    const fromFlag = flags[spec.flag];
    const fromEnv = env[envName(spec.flag)];
    const fromConfig = config[spec.flag] ?? config[camel(spec.flag)];
    let v: unknown;
    let where: string;
    if (fromFlag !== undefined && !(Array.isArray(fromFlag) && fromFlag.length === 0)) {
      v = fromFlag;
      where = `--${spec.flag}`;
      origins[spec.flag] = 'flag';
    } else if (fromEnv !== undefined && fromEnv !== '') {
      where = envName(spec.flag);
      v = spec.kind === 'list' ? envList(fromEnv, where) : fromEnv;
      origins[spec.flag] = 'env';
    } else if (fromConfig !== undefined && fromConfig !== null) {
      v = fromConfig;
      where = `config "${spec.flag}"`;
      origins[spec.flag] = 'config';
    } else {
      values[spec.flag] = spec.defaultFor?.[command] ?? spec.default;
      continue;
    }
    values[spec.flag] = coerce(spec, v, where);
    sources[spec.flag] = where;
  }
  return validate(command, values, env, sources, origins);
}

/** A repeatable setting in the environment: a JSON array, or one value. */
function envList(text: string, where: string): unknown {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t);
    } catch {
      throw new UsageError(`${where}: malformed JSON array: ${text}`);
    }
  }
  return [text];
}

function coerce(spec: SettingSpec, v0: unknown, where: string): unknown {
  // A scalar flag given twice (`--grace 1 --grace 10`) arrives as an array: the last one wins.
  const v = spec.kind !== 'list' && Array.isArray(v0) && v0.length > 0 ? v0[v0.length - 1] : v0;
  const bad = (what: string) => new UsageError(`${where}: ${what}, got ${JSON.stringify(v)}`);
  switch (spec.kind) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw bad('expected true or false');
    case 'int': {
      const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(String(v)) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) throw bad('expected a whole number');
      return n;
    }
    case 'number': {
      const n = typeof v === 'number' ? v : /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(String(v)) ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw bad('expected a number');
      return n;
    }
    case 'string':
      if (typeof v === 'string' && v !== '') return v;
      if (Array.isArray(v) && v.length > 0) return String(v[v.length - 1]); // a repeated scalar flag: last wins
      throw bad('expected a non-empty string');
    case 'list': {
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((x) => typeof x === 'string' || typeof x === 'number')) throw bad('expected strings');
      return list.map(String);
    }
  }
}

/**
 * An --exclude value no container can carry excludes nothing, silently: `--exclude=web,db` left web
 * and db to --all. Several are given as the other repeatable settings take them: the flag
 * repeated, a JSON array in the environment (envList) or the config file.
 */
function checkExcludes(values: string[], where: string, origin: Origin): void {
  const bad = values.find((x) => !isContainerReference(x));
  if (bad === undefined) return;
  const parts = bad.split(/[\s,;]+/).filter(Boolean);
  const several = parts.length >= 2 && parts.every(isContainerReference) ? parts : ['NAME1', 'NAME2'];
  const how =
    origin === 'flag'
      ? `by repeating the flag: ${several.map((x) => `--exclude ${x}`).join(' ')}`
      : origin === 'env'
        ? `as a JSON array: ${envName('exclude')}='${JSON.stringify(several)}'`
        : `as a JSON array: "exclude": ${JSON.stringify(several)}`;
  throw new UsageError(`${where}: ${JSON.stringify(bad)} is not a container name or ID; give several ${how}`);
}

function regexes(list: string[], where: string, refuse: (re: RegExp) => string | null = () => null): RegExp[] {
  return list.map((src) => {
    let re: RegExp;
    try {
      re = new RegExp(src, 'u');
    } catch (e) {
      throw new UsageError(`${where}: not a valid regular expression: ${src}`);
    }
    const why = refuse(re);
    if (why !== null) throw new UsageError(`${where}: "${src}" ${why}`);
    return re;
  });
}

function validate(
  command: CommandName,
  v: Record<string, unknown>,
  env: Record<string, string | undefined>,
  sources: Record<string, string>,
  origins: Record<string, Origin>,
): Settings {
  const int = (k: string) => v[k] as number;
  const num = (k: string) => v[k] as number;
  const str = (k: string) => v[k] as string | undefined;
  const list = (k: string) => (v[k] as string[] | undefined) ?? [];

  if (int('max-procs') < 1) throw new UsageError('--max-procs: must be at least 1');
  const ratio = num('pids-ratio');
  if (!(ratio > 0 && ratio <= 1)) throw new UsageError('--pids-ratio: must be in (0, 1]');
  if (int('keep') < 0) throw new UsageError('--keep: must be 0 or more');
  if (!(num('grace') >= 0 && num('grace') <= 3600)) throw new UsageError('--grace: must be between 0 and 3600 seconds');
  if (!(num('interval') > 0 && num('interval') <= 86400)) throw new UsageError('--interval: must be between 0 and 86400 seconds');
  if (!(num('heartbeat') > 0)) throw new UsageError('--heartbeat: must be more than 0 seconds');
  for (const c of list('container')) if (c.trim() === '') throw new UsageError('--container: empty name');
  for (const c of list('exclude')) if (c.trim() === '') throw new UsageError('--exclude: empty name');
  checkExcludes(list('exclude'), sources['exclude'] ?? '--exclude', origins['exclude'] ?? 'default');
  const stopTimeout = v['stop-timeout'] as number | undefined;
  if (stopTimeout !== undefined && !(stopTimeout >= 0 && stopTimeout <= 3600)) throw new UsageError('--stop-timeout: must be between 0 and 3600 seconds');
  const restartRule = String(v['restart']);
  if (!(RESTART_RULES as readonly string[]).includes(restartRule)) {
    throw new UsageError(`--restart: expected ${RESTART_RULES.join(', ')}, got "${restartRule}"`);
  }
  for (const l of list('label')) if (l === '' || l.startsWith('=')) throw new UsageError(`--label: expected KEY or KEY=VALUE, got "${l}"`);

  const steps = String(v['steps'])
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of steps) {
    if (!(STEPS as readonly string[]).includes(s)) throw new UsageError(`--steps: unknown step "${s}" (use ${STEPS.join(',')})`);
  }
  if (steps.length === 0) throw new UsageError('--steps: name at least one step');
  if (v['proc-source'] !== 'ps' && v['proc-source'] !== 'host') {
    throw new UsageError(`--proc-source: expected ps or host, got "${v['proc-source']}"`);
  }
  const warnWithinMs = parseDuration(String(v['warn-within']));
  const warnWithin = warnWithinMs === null ? null : warnWithinMs / 1000;
  if (warnWithin === null) throw new UsageError(`--warn-within: expected a duration such as 6h or 90m, got "${v['warn-within']}"`);
  if (v['concurrency'] !== undefined && !((v['concurrency'] as number) >= 1)) throw new UsageError('--concurrency: must be at least 1');
  if (!(num('timeout') > 0 && num('timeout') <= 3600)) throw new UsageError('--timeout: must be more than 0 and at most 3600 seconds');
  const restartLimit = parseRestartLimit(String(v['restart-limit']));
  if (!restartLimit) throw new UsageError(`--restart-limit: expected ${RESTART_LIMIT_FORM}, got "${v['restart-limit']}"`);

  const procRoot = str('proc-root')!.replace(/\/+$/, '') || '/';
  const cgroupRoot = str('cgroup-root');
  for (const [flag, p] of [['proc-root', procRoot], ['cgroup-root', cgroupRoot], ['log-file', str('log-file')], ['pid-file', str('pid-file')], ['prom-file', str('prom-file')], ['state-file', str('state-file')]] as const) {
    if (p !== undefined && !p.startsWith('/') && !p.startsWith('.')) {
      // Relative paths are fine; this only rejects things that look like a swallowed flag.
      if (p.startsWith('-')) throw new UsageError(`--${flag}: expected a path, got "${p}"`);
    }
  }
  const metricsAddrText = str('metrics-addr');
  const metricsAddr = metricsAddrText === undefined ? undefined : parseMetricsAddr(metricsAddrText);
  if (metricsAddr === null) throw new UsageError(`--metrics-addr: expected HOST:PORT such as 127.0.0.1:9723, got "${metricsAddrText}"`);
  const webhook = str('webhook');
  const webhookProblem = webhook === undefined ? null : webhookUrlProblem(webhook);
  if (webhookProblem !== null) throw new UsageError(`--webhook: ${webhookProblem}`);
  const webhookFormat = String(v['webhook-format']);
  if (!(WEBHOOK_FORMATS as readonly string[]).includes(webhookFormat)) {
    throw new UsageError(`--webhook-format: expected ${WEBHOOK_FORMATS.join(', ')}, got "${webhookFormat}"`);
  }
  if (!(num('notify-every') >= 0 && num('notify-every') <= 86400)) throw new UsageError('--notify-every: must be between 0 and 86400 seconds');
  void command;
  return {
    containers: list('container'),
    labels: list('label'),
    all: v['all'] as boolean,
    exclude: list('exclude'),
    npxOrphans: v['npx-orphans'] as boolean,
    maxProcs: int('max-procs'),
    pidsRatio: ratio,
    match: regexes(list('match'), sources['match'] ?? '--match', runawayPatternWhy),
    dockerHost: str('docker-host') ?? (env['DOCKER_HOST'] || DEFAULT_DOCKER_HOST),
    cgroupRoot,
    procRoot,
    procSource: v['proc-source'] as 'ps' | 'host',
    timeoutSeconds: num('timeout'),
    concurrency: (v['concurrency'] as number | undefined) ?? defaultConcurrency(),
    json: v['json'] as boolean,
    promFile: str('prom-file'),
    keep: int('keep'),
    protect: regexes(list('protect'), sources['protect'] ?? '--protect'),
    graceSeconds: num('grace'),
    ...(stopTimeout === undefined ? {} : { stopTimeoutSeconds: stopTimeout }),
    restartRule: restartRule as RestartRule,
    steps: steps as StepName[],
    emergency: v['emergency'] as boolean,
    dryRun: v['dry-run'] as boolean,
    logFile: str('log-file'),
    intervalSeconds: num('interval'),
    restartLimit,
    pidFile: str('pid-file'),
    heartbeatSeconds: num('heartbeat'),
    stateFile: str('state-file')!,
    warnWithinSeconds: warnWithin,
    ...reapSettings(v),
    ...(metricsAddr === undefined ? {} : { metricsAddr }),
    onAction: str('on-action'),
    webhook,
    webhookFormat: webhookFormat as WebhookFormat,
    notifyEverySeconds: num('notify-every'),
    origins,
  };
}
