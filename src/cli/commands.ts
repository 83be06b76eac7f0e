// The shape of the command line, in one place: the commands and which options each one takes.
// --help (parse.ts), the man page (man-page.ts) and the shell completions (completion.ts) are all
// made from this and from SETTINGS, so an option added to settings.ts appears in all of them.
import { SETTINGS, envName, type CommandName, type SettingSpec } from './settings.ts';

export const COMMANDS: Record<CommandName, string> = {
  audit: 'Report processes, pids and limits of each container (cron-friendly)',
  cleanup: 'One-shot emergency: bring the selected unhealthy containers back under their limits',
  monitor: 'Long-running loop: observe every --interval seconds and clean up (nohup/systemd)',
  explain: 'One container for a person: its process tree, limits, growth, and what cleanup would do now',
  reap: 'Stop the selected containers that are orphaned, too old, idle or piled up (README: Container floods)',
  top: 'Read-only live view: containers by trouble, growth, last actions (q quits)',
};

/** Commands that name their one container as an argument instead of --container. */
export const CONTAINER_ARGUMENT: Partial<Record<CommandName, string>> = { explain: 'container' };

/** Prints a completion script; runs nothing. */
export const COMPLETION_COMMAND = { name: 'completion', describe: 'Print the shell completion script: completion bash|zsh', shells: ['bash', 'zsh'] } as const;
export type Shell = (typeof COMPLETION_COMMAND.shells)[number];

/** One option as the help, the man page and the completions present it. */
export interface OptionDoc {
  flag: string;
  /** placeholder of its value (PATH, DIR, N, VALUE); absent for a switch */
  value?: string;
  describe: string;
  /** the default as --help shows it; absent when there is none */
  default?: string;
  env?: string;
  repeatable: boolean;
}

/** Accepted before or after any command; yargs adds --help and --version itself. */
export const GLOBAL_OPTIONS: readonly OptionDoc[] = [
  { flag: 'config', value: 'PATH', describe: 'JSON file with settings, keys as the option names', env: envName('config'), repeatable: false },
  { flag: 'help', describe: 'show the help of pidwarden or of one command', repeatable: false },
  { flag: 'version', describe: 'show the version, the commit and the platform of this binary', repeatable: false },
];

export function formatDefault(v: unknown): string | undefined {
  if (v === undefined || (Array.isArray(v) && v.length === 0)) return undefined;
  return Array.isArray(v) ? v.map((x) => JSON.stringify(x)).join(' ') : String(v);
}

/** What a value looks like: a path (files are completed), a directory, a number, anything else. */
export function valueName(spec: SettingSpec): string | undefined {
  if (spec.kind === 'bool') return undefined;
  if (/(^|-)file$/.test(spec.flag)) return 'PATH';
  if (/(^|-)root$/.test(spec.flag)) return 'DIR';
  if (spec.kind === 'int' || spec.kind === 'number') return 'N';
  return 'VALUE';
}

export function optionDoc(spec: SettingSpec): OptionDoc {
  return {
    flag: spec.flag,
    value: valueName(spec),
    describe: spec.describe,
    default: formatDefault(spec.default),
    env: envName(spec.flag),
    repeatable: spec.kind === 'list',
  };
}

/** The options of one command, in SETTINGS order, without the global ones. */
export function commandOptions(command: CommandName): OptionDoc[] {
  return SETTINGS.filter((s) => s.commands.includes(command)).map(optionDoc);
}

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
