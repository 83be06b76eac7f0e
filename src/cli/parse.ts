// Command-line parsing with yargs. yargs only splits and checks names here (strict: an unknown
// flag is a usage error); values are validated in settings.ts together with env and config.
// No yargs defaults: a flag that is absent must stay absent, or it would hide env and config.
import yargs from 'yargs';
import { readFileSync } from 'node:fs';
import { EXIT_MEANINGS, UsageError } from '../errors.ts';
import { SETTINGS, envName, resolveSettings, type CommandName, type Settings } from './settings.ts';
import { COMMANDS, COMMAND_NAMES, COMPLETION_COMMAND, CONTAINER_ARGUMENT, GLOBAL_OPTIONS, formatDefault, type Shell } from './commands.ts';
import { completionScript } from './completion.ts';
import { VERSION_LINE } from '../version.ts';

export type ParsedCli =
  | { kind: 'run'; command: CommandName; settings: Settings }
  | { kind: 'print'; text: string };

export async function parseCli(argvGiven: string[], env: Record<string, string | undefined>): Promise<ParsedCli> {
  // `pidwarden help [COMMAND]` is `pidwarden [COMMAND] --help`: yargs took the word and ran nothing
  const argv = argvGiven[0] === 'help' ? [...argvGiven.slice(1), '--help'] : argvGiven;
  refuseSwitchValues(argv);
  let printed = '';
  const y = yargs(argv)
    .scriptName('pidwarden')
    .usage('pidwarden <command> [options]\n\nKeeps Docker containers from drowning in runaway processes.')
    .exitProcess(false)
    .strict()
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false, 'duplicate-arguments-array': true })
    .option('config', { type: 'string', describe: `${GLOBAL_OPTIONS.find((o) => o.flag === 'config')!.describe} (env ${envName('config')})`, global: true })
    .version(VERSION_LINE)
    .help()
    // The terminal's width only for help: the first touch of process.stdout builds a stream that
    // pidwarden otherwise never uses (it writes through fd 1; scripts/build.ts, LAZY_COLUMNS).
    .wrap(Math.min(110, (argv.includes('--help') ? process.stdout.columns : undefined) || 100))
    .epilogue(
      'Every option can also come from the environment as PIDWARDEN_<OPTION> (e.g. PIDWARDEN_MAX_PROCS=20)\n' +
        'or from the --config file (keys as the option names); flags win over env, env over the file.\n' +
        'cleanup and monitor act only on --container, --label or --all, or else on the containers labelled\n' +
        'pidwarden.enable=true; --exclude and pidwarden.enable=false always win. pidwarden.* labels set a\n' +
        "container's own policy (README: Per-container policy); a restart needs evidence (--restart).\n" +
        'Exit codes:\n' +
        EXIT_MEANINGS.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n'),
    )
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'bad usage');
    });
  // Every value is read as a string and validated in settings.ts: "[string]" beside --grace would
  // only mislead. (yargs 17.7+ has usageConfiguration; @types/yargs does not know it yet.)
  (y as unknown as { usageConfiguration(c: Record<string, boolean>): unknown }).usageConfiguration({ 'hide-types': true });
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const argument = CONTAINER_ARGUMENT[name];
    y.command(argument ? `${name} <${argument}>` : name, COMMANDS[name], (sub) => {
      if (argument) sub.positional(argument, { type: 'string', describe: 'container name, ID or ID prefix of 12+ hex digits' });
      for (const spec of SETTINGS.filter((s) => s.commands.includes(name))) {
        const shown = formatDefault(spec.defaultFor?.[name] ?? spec.default);
        const def = shown === undefined ? '' : ` [default: ${shown}]`;
        sub.option(spec.flag, {
          type: spec.kind === 'bool' ? 'boolean' : spec.kind === 'list' ? 'array' : 'string',
          describe: spec.describe + def,
          requiresArg: spec.kind !== 'bool',
          ...(spec.kind === 'list' ? { string: true } : {}),
        });
      }
      return sub;
    });
  }
  y.command(`${COMPLETION_COMMAND.name} <shell>`, COMPLETION_COMMAND.describe, (sub) =>
    sub.positional('shell', { type: 'string', describe: `the shell to complete for: ${COMPLETION_COMMAND.shells.join(' or ')}` }),
  );
  y.demandCommand(1, `name a command: ${COMMAND_NAMES.join(', ')}`);
  skipHelpCache(y);
  // yargs writes help/version through console.log; capture it so main decides where output goes.
  const origLog = console.log;
  console.log = (...args: unknown[]) => {
    printed += args.map(String).join(' ') + '\n';
  };
  let parsed: Record<string, unknown>;
  try {
    parsed = (await y.parseAsync()) as Record<string, unknown>;
  } finally {
    console.log = origLog;
  }
  if (parsed['help'] || parsed['version']) return { kind: 'print', text: printed };
  if ((parsed['_'] as unknown[])[0] === COMPLETION_COMMAND.name) {
    if ((parsed['_'] as unknown[]).length > 1) throw new UsageError(`unexpected argument "${(parsed['_'] as unknown[])[1]}"`);
    const shell = String(parsed['shell']);
    if (!(COMPLETION_COMMAND.shells as readonly string[]).includes(shell)) {
      throw new UsageError(`completion: unknown shell "${shell}" (use ${COMPLETION_COMMAND.shells.join(' or ')})`);
    }
    return { kind: 'print', text: completionScript(shell as Shell) };
  }
  const command = String((parsed['_'] as unknown[])[0]) as CommandName;
  if (!(command in COMMANDS)) throw new UsageError(`unknown command "${command}": use ${COMMAND_NAMES.join(', ')}`);
  if ((parsed['_'] as unknown[]).length > 1) throw new UsageError(`unexpected argument "${(parsed['_'] as unknown[])[1]}"`);
  const configPath = (parsed['config'] as string | undefined) ?? env[envName('config')];
  const config = configPath ? readConfig(configPath) : {};
  const flags: Record<string, unknown> = {};
  for (const spec of SETTINGS) if (parsed[spec.flag] !== undefined) flags[spec.flag] = parsed[spec.flag];
  const settings = resolveSettings(command, flags, env, config);
  // The command's one container, named as its argument: never from env or a config file.
  const argument = CONTAINER_ARGUMENT[command];
  if (argument) settings.containers = [String(parsed[argument])];
  return { kind: 'run', command, settings };
}

/** Every on/off flag of every command, and yargs' own --help and --version. */
const SWITCHES = new Set([...SETTINGS.filter((s) => s.kind === 'bool').map((s) => s.flag), 'help', 'version']);

/**
 * yargs-parser reads `--flag=VALUE` of a boolean as `VALUE === 'true'`, so `cleanup --all
 * --dry-run=1` (or `=yes`, `=TRUE`) was a real run, and beat PIDWARDEN_DRY_RUN=1. A switch takes
 * no value but `true` or `false`; anything else is refused before yargs sees it. Tokens after
 * `--` are not flags; a token starting with `--` is never another flag's value (yargs-parser).
 */
function refuseSwitchValues(argv: readonly string[]): void {
  for (const arg of argv) {
    if (arg === '--') return;
    const m = /^--([^=]+)=([\s\S]*)$/.exec(arg);
    if (!m || !SWITCHES.has(m[1]!) || m[2] === 'true' || m[2] === 'false') continue;
    throw new UsageError(`${arg}: expected --${m[1]}, --${m[1]}=true or --${m[1]}=false`);
  }
}

/**
 * yargs renders the whole help of the command being run on every run, to keep it in case a
 * failure wants to show it (yargs' command.js, cacheHelpMessage). pidwarden never shows help on a
 * failure (.fail() turns it into one line), and `--help` renders it afresh. The rendering measures
 * every line's width through wrap-ansi: an unreachable engine's `audit` took 105 ms, 71 ms without
 * it (medians of 40 interleaved runs of the compiled binary, load average 5).
 */
function skipHelpCache(y: unknown): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (y as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

const KNOWN_KEYS = new Set(SETTINGS.flatMap((s) => [s.flag, s.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())]));

export function readConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`config ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`config ${path}: expected a JSON object`);
  for (const key of Object.keys(data)) {
    if (!KNOWN_KEYS.has(key)) throw new UsageError(`config ${path}: unknown setting "${key}"`);
  }
  return data as Record<string, unknown>;
}
