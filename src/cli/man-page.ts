// pidwarden(1) in roff, made from the same tables as --help (SETTINGS, commands.ts, EXIT_MEANINGS),
// so the two never disagree. `npm run release` writes it to dist/release/pidwarden.1;
// test/unit/man-page.test.ts renders it with `man --warnings -l` and checks it against --help.
import { COMMAND_NAMES, COMMANDS, COMPLETION_COMMAND, GLOBAL_OPTIONS, commandOptions, type OptionDoc } from './commands.ts';
import { EXIT_MEANINGS } from '../errors.ts';
import { DEFAULT_DOCKER_HOST } from '../engine/client.ts';
import type { CommandName } from './settings.ts';

/** Escape text for roff: backslashes, a leading control character, and hyphens as minus signs. */
export function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1');
}

const bold = (t: string) => `\\fB${roff(t)}\\fR`;
const italic = (t: string) => `\\fI${roff(t)}\\fR`;

function optionEntry(o: OptionDoc): string {
  const head = `${bold(`--${o.flag}`)}${o.value ? ` ${italic(o.value)}` : ''}`;
  const extra = [o.default !== undefined ? `Default: ${roff(o.default)}.` : '', o.env ? `Environment: ${bold(o.env)}.` : '']
    .filter(Boolean)
    .join(' ');
  return `.TP\n${head}\n${roff(capital(o.describe))}.${extra ? `\n${extra}` : ''}`;
}

const capital = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** The options, grouped by the set of commands that take them, in SETTINGS order. */
function optionSections(): string[] {
  const groups = new Map<string, { commands: CommandName[]; options: OptionDoc[] }>();
  for (const command of COMMAND_NAMES) {
    for (const o of commandOptions(command)) {
      const takers = COMMAND_NAMES.filter((c) => commandOptions(c).some((x) => x.flag === o.flag));
      const key = takers.join(',');
      const group = groups.get(key) ?? groups.set(key, { commands: takers, options: [] }).get(key)!;
      if (!group.options.some((x) => x.flag === o.flag)) group.options.push(o);
    }
  }
  const sections = [`.SS Global options\n${GLOBAL_OPTIONS.map(optionEntry).join('\n')}`];
  for (const { commands, options } of groups.values()) {
    const title = commands.length === COMMAND_NAMES.length ? 'Every command (selection and thresholds)' : commands.join(' and ');
    sections.push(`.SS ${roff(title)}\n${options.map(optionEntry).join('\n')}`);
  }
  return sections;
}

export function manPage(version: string): string {
  return `.\\" pidwarden(1); generated from the option table of pidwarden ${roff(version)}: do not edit
.TH PIDWARDEN 1 "" "pidwarden ${roff(version)}" "User Commands"
.\\" no hyphenation, ragged right: option and variable names must stay whole to be copied
.nh
.ad l
.SH NAME
pidwarden \\- keep Docker containers from drowning in runaway processes
.SH SYNOPSIS
${COMMAND_NAMES.map((c) => `.B pidwarden ${c}\n.RI [ options ]\n.br`).join('\n')}
.B pidwarden ${COMPLETION_COMMAND.name}
.BR ${COMPLETION_COMMAND.shells.join(' | ')}
.br
.B pidwarden
.BR \\-\\-help " | " \\-\\-version
.SH DESCRIPTION
pidwarden runs on a container host and keeps containers from filling up with runaway processes
(an application that starts one
.B npm exec
per session and never reaps them).
It observes each container through the engine API, the cgroup pids files,
.B ps
in the container and the host's
.IR /proc ,
decides with an escalation ladder (dedupe, oldest, all, restart) and acts: it kills whole process
trees, SIGTERM first and SIGKILL after the grace time, and never signals a PID that now belongs to
another process.
Every action is logged as one JSON line.
.SH COMMANDS
${COMMAND_NAMES.map((c) => `.TP\n.B ${c}\n${roff(COMMANDS[c])}.`).join('\n')}
.TP
.BI ${COMPLETION_COMMAND.name} " shell"
${roff(COMPLETION_COMMAND.describe)}.
.SH OPTIONS
Precedence: flags, then the environment, then the
.B \\-\\-config
file, then the defaults.
${optionSections().join('\n')}
.SH EXIT STATUS
${EXIT_MEANINGS.map(([code, meaning]) => `.TP\n.B ${code}\n${roff(capital(meaning))}.`).join('\n')}
.SH ENVIRONMENT
.TP
.B PIDWARDEN_\\fIOPTION\\fR
Every option, upper case with underscores (\\fBPIDWARDEN_MAX_PROCS=20\\fR).
A repeatable option takes one value or a JSON array
(\\fBPIDWARDEN_MATCH='["^npm exec ","^npx "]'\\fR).
.TP
.B DOCKER_HOST
The engine address when \\fB\\-\\-docker\\-host\\fR is not given: \\fBunix://\\fIpath\\fR or \\fBtcp://\\fIhost\\fB:\\fIport\\fR.
.TP
.B PIDWARDEN_DEBUG
When set, an error is followed by its stack trace on standard error.
.SH FILES
.TP
.I ${roff(DEFAULT_DOCKER_HOST.replace(/^unix:\/\//, ''))}
The engine's socket when neither \\fB\\-\\-docker\\-host\\fR nor \\fBDOCKER_HOST\\fR is set.
.TP
.I /proc
The host's processes (\\fB\\-\\-proc\\-root\\fR); \\fI/proc/self/mountinfo\\fR locates the cgroup fs.
.TP
.I /sys/fs/cgroup
The cgroup fs: each container's \\fIpids.current\\fR and \\fIpids.max\\fR (\\fB\\-\\-cgroup\\-root\\fR).
.TP
.I \\-\\-log\\-file
The JSONL log, opened for appending; the monitor reopens it on SIGHUP (logrotate).
.TP
.I \\-\\-pid\\-file
The monitor's PID; a second monitor on the same file refuses to start.
.TP
.I \\-\\-prom\\-file
Prometheus text written by \\fBaudit\\fR, replaced atomically.
.SH SIGNALS
.B monitor
stops after the current action on SIGTERM or SIGINT (exit 0) and reopens its log file on SIGHUP.
.SH SEE ALSO
.BR docker (1),
.BR ps (1),
.BR kill (1)
`;
}
