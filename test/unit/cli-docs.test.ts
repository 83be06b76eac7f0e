/**
 * The man page and the completion scripts are made from the same tables as --help: every option
 * --help lists for a command must be in both, and both must work in the real programs
 * (`man --warnings -l`, bash with COMP_WORDS/COMP_CWORD, zsh's compinit).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCli } from '../../src/cli/parse.ts';
import { COMMAND_NAMES, COMPLETION_COMMAND } from '../../src/cli/commands.ts';
import { completionScript } from '../../src/cli/completion.ts';
import { manPage } from '../../src/cli/man-page.ts';
import { envName, SETTINGS, type CommandName } from '../../src/cli/settings.ts';
import { EXIT_MEANINGS, UsageError } from '../../src/errors.ts';
import { VERSION } from '../../src/version.ts';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync('/tmp/pwdocs-');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function helpText(args: string[]): Promise<string> {
  const r = await parseCli([...args, '--help'], {});
  if (r.kind !== 'print') throw new Error('--help did not print');
  return r.text;
}

/** The options `pidwarden <command> --help` lists (its "Options:" block, one per line). */
async function helpOptions(command: CommandName): Promise<string[]> {
  const text = await helpText([command]);
  const flags = [...text.matchAll(/^\s+--([a-z][a-z-]*)/gm)].map((m) => m[1]!);
  expect(flags.length).toBeGreaterThan(5);
  return [...new Set(flags)];
}

const run = (argv: string[], env: Record<string, string> = {}) => {
  const r = Bun.spawnSync(argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: 30_000 });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe('man page pidwarden(1)', () => {
  let rendered = '';
  let source = '';
  beforeAll(() => {
    source = manPage(VERSION);
    const file = join(tmp, 'pidwarden.1');
    writeFileSync(file, source);
    const r = run(['man', '--warnings', '-l', file], { MANWIDTH: '80', MAN_KEEP_FORMATTING: '', LANG: 'C.UTF-8' });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    rendered = r.stdout.replace(/\s+/g, ' ');
  });

  test('man --warnings -l renders it without a warning, with its sections', () => {
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'SEE ALSO']) {
      expect(rendered).toContain(` ${section} `);
    }
    expect(rendered).toContain(`pidwarden ${VERSION}`);
  });

  test.each(COMMAND_NAMES)('every option of `pidwarden %s --help` is in it', async (command) => {
    for (const flag of await helpOptions(command)) expect(rendered).toContain(`--${flag}`);
    expect(rendered).toContain(`pidwarden ${command} [options]`);
  });

  test('every setting with its environment variable and its default, as --help shows it', () => {
    for (const spec of SETTINGS) {
      expect(rendered).toContain(`Environment: ${envName(spec.flag)}.`);
    }
    expect(rendered).toMatch(/--max-procs N Critical above this many processes in a container\. Default: 15\./);
  });

  test('every exit code, the files and the environment', () => {
    for (const [code, meaning] of EXIT_MEANINGS) expect(rendered).toContain(` ${code} ${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}.`);
    for (const word of ['/var/run/docker.sock', '/proc', '/sys/fs/cgroup', 'DOCKER_HOST', 'PIDWARDEN_DEBUG', '--log-file', '--pid-file']) expect(rendered).toContain(word);
  });

  test('--help lists the same exit codes', async () => {
    const help = (await helpText([])).replace(/\s+/g, ' '); // yargs wraps long lines
    for (const [code, meaning] of EXIT_MEANINGS) expect(help).toContain(` ${code} ${meaning}`);
  });
});

describe('bash completion (sourced into a real bash)', () => {
  let script = '';
  beforeAll(() => {
    script = join(tmp, 'pidwarden.bash');
    writeFileSync(script, completionScript('bash'));
    mkdirSync(join(tmp, 'logs'));
    writeFileSync(join(tmp, 'logs', 'pidwarden.jsonl'), '');
  });

  /** COMPREPLY for the words typed so far (the last one is being completed). */
  function complete(...words: string[]): string[] {
    const r = run([
      'bash',
      '--norc',
      '--noprofile',
      '-c',
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _pidwarden; printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      script,
      ...words,
    ]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return r.stdout.split('\n').filter(Boolean);
  }

  test('the script registers itself for pidwarden', () => {
    const r = run(['bash', '--norc', '-c', 'source "$1"; complete -p pidwarden', 'bash', script]);
    expect(r.stdout.trim()).toBe('complete -F _pidwarden pidwarden');
  });

  test('the commands, then the options of the command typed', () => {
    expect(complete('pidwarden', '')).toEqual([...COMMAND_NAMES, COMPLETION_COMMAND.name, '--config', '--help', '--version']);
    expect(complete('pidwarden', 'cl')).toEqual(['cleanup']);
    expect(complete('pidwarden', 'cleanup', '--dr')).toEqual(['--dry-run']);
    expect(complete('pidwarden', '--config', 'x.json', 'monitor', '--pid-')).toEqual(['--pid-file']);
    expect(complete('pidwarden', 'audit', '--log-f')).toEqual([]); // audit takes no --log-file
    expect(complete('pidwarden', COMPLETION_COMMAND.name, '')).toEqual([...COMPLETION_COMMAND.shells, '--help']);
  });

  test.each(COMMAND_NAMES)('every option of `pidwarden %s --help` completes', async (command) => {
    const offered = complete('pidwarden', command, '--');
    for (const flag of await helpOptions(command)) expect(offered).toContain(`--${flag}`);
  });

  test('values: paths for --*-file (also as --opt=value), directories for --*-root, nothing for numbers', () => {
    const dir = join(tmp, 'logs');
    expect(complete('pidwarden', 'monitor', '--log-file', `${dir}/pid`)).toEqual([join(dir, 'pidwarden.jsonl')]);
    expect(complete('pidwarden', 'monitor', '--log-file', '=', `${dir}/pid`)).toEqual([join(dir, 'pidwarden.jsonl')]);
    expect(complete('pidwarden', 'audit', '--proc-root', `${tmp}/lo`)).toEqual([dir]);
    expect(complete('pidwarden', 'audit', '--max-procs', '')).toEqual([]);
  });
});

describe('zsh completion', () => {
  test('compinit takes it: _pidwarden is the completion of pidwarden, one spec per option of each command', async () => {
    const script = join(tmp, '_pidwarden');
    const text = completionScript('zsh');
    writeFileSync(script, text);
    const r = run(['zsh', '-f', '-c', 'autoload -Uz compinit && compinit -u -d "$1/zcompdump" && source "$2" && print -r -- $_comps[pidwarden]', 'zsh', tmp, script]);
    expect({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ code: 0, stdout: '_pidwarden', stderr: '' });
    for (const command of COMMAND_NAMES) {
      const block = text.slice(text.indexOf(`(${command})\n`), text.indexOf(';;', text.indexOf(`(${command})\n`)));
      for (const flag of await helpOptions(command)) expect(block).toMatch(new RegExp(`'(\\([^)]*\\)|\\*)?--${flag}[=[]`));
    }
  });
});

describe('pidwarden completion', () => {
  test('prints the script of the shell named; another shell, none or more is a one-line usage error', async () => {
    expect(await parseCli(['completion', 'bash'], {})).toEqual({ kind: 'print', text: completionScript('bash') });
    expect(await parseCli(['completion', 'zsh'], {})).toEqual({ kind: 'print', text: completionScript('zsh') });
    for (const [argv, message] of [
      [['completion', 'fish'], 'completion: unknown shell "fish" (use bash or zsh)'],
      [['completion'], 'Not enough non-option arguments: got 0, need at least 1'],
      [['completion', 'bash', 'zsh'], 'Unknown argument: zsh'],
    ] as const) {
      const e = await parseCli([...argv], {}).then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(message);
    }
  });
});
