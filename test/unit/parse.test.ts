import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli, readConfig, type ParsedCli } from '../../src/cli/parse.ts';
import { SETTINGS, type Settings } from '../../src/cli/settings.ts';
import { UsageError } from '../../src/errors.ts';
import { VERSION } from '../../src/version.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pidwarden-parse-test-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function usageError(argv: string[], env: Record<string, string | undefined> = {}): Promise<UsageError> {
  try {
    await parseCli(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`expected a UsageError for: ${argv.join(' ')}`);
}

async function printed(argv: string[]): Promise<string> {
  const r = await parseCli(argv, {});
  if (r.kind !== 'print') throw new Error(`expected help/version text, got a ${r.command} run`);
  return r.text;
}

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<Extract<ParsedCli, { kind: 'run' }>> {
  const r = await parseCli(argv, env);
  if (r.kind !== 'run') throw new Error('expected a command to run, got printed text');
  return r;
}

const settingsOf = async (argv: string[], env: Record<string, string | undefined> = {}): Promise<Settings> => (await run(argv, env)).settings;

describe('--help and --version', () => {
  test('--help lists the three commands with their descriptions', async () => {
    const text = await printed(['--help']);
    expect(text).toContain('pidwarden <command> [options]');
    for (const cmd of ['audit', 'cleanup', 'monitor']) expect(text).toMatch(new RegExp(`pidwarden ${cmd}\\s`));
    expect(text).toContain('Report processes, pids and limits');
    expect(text).toContain('PIDWARDEN_');
    expect(text).toContain('Exit codes');
  });

  test('`help` and `help audit` print what `--help` and `audit --help` print', async () => {
    expect(await printed(['help'])).toBe(await printed(['--help']));
    expect(await printed(['help', 'audit'])).toBe(await printed(['audit', '--help']));
  });

  test('`audit --help` shows audit\'s options and not the acting ones', async () => {
    const text = await printed(['audit', '--help']);
    for (const flag of ['--max-procs', '--pids-ratio', '--match', '--json', '--prom-file', '--container', '--config']) expect(text).toContain(flag);
    for (const flag of ['--keep', '--emergency', '--restart-limit', '--all', '--remove']) expect(text).not.toContain(flag);
    // audit keeps growth samples in the state file too (and reads reap's idle samples there)
    for (const flag of ['--state-file', '--warn-within', '--exclude']) expect(text).toContain(flag);
    expect(text).toContain('[default: 15]');
  });

  test('`cleanup --help` and `monitor --help` show the ladder options', async () => {
    const cleanup = await printed(['cleanup', '--help']);
    for (const flag of ['--keep', '--protect', '--steps', '--emergency', '--dry-run', '--grace', '--all', '--exclude', '--restart-limit', '--state-file', '--stop-timeout']) {
      expect(cleanup).toContain(flag);
    }
    // restart history now lives in the state file, so cleanup from cron is limited like the monitor
    for (const flag of ['--interval', '--pid-file', '--heartbeat']) expect(cleanup).not.toContain(flag);
    const monitor = await printed(['monitor', '--help']);
    for (const flag of ['--interval', '--restart-limit', '--pid-file', '--heartbeat']) expect(monitor).toContain(flag);
  });

  test('--version prints the version, the commit (unknown from source) and the platform', async () => {
    expect(await printed(['--version'])).toBe(`${VERSION} (commit unknown, ${process.platform}-${process.arch})\n`);
  });

  test('help text is returned, not written: console.log is restored afterwards', async () => {
    const original = console.log;
    await printed(['--help']);
    expect(console.log).toBe(original);
    await usageError(['audit', '--bogus']);
    expect(console.log).toBe(original);
  });
});

describe('usage errors', () => {
  test('an unknown flag', async () => {
    expect((await usageError(['audit', '--bogus'])).message).toContain('bogus');
  });

  test('an unknown flag before the command', async () => {
    expect((await usageError(['--frobnicate=1', 'audit'])).message).toContain('frobnicate');
    // without "=" yargs takes "audit" as the unknown flag's value: still a usage error
    await usageError(['--frobnicate', 'audit']);
  });

  test('a flag that belongs to another command (audit has no --keep)', async () => {
    expect((await usageError(['audit', '--keep', '2'])).message).toContain('keep');
  });

  test('--no-<flag> is not a negation (boolean-negation off): unknown', async () => {
    await usageError(['audit', '--no-json']);
  });

  test('no command', async () => {
    expect((await usageError([])).message).toBe('name a command: audit, cleanup, monitor, explain, reap, top');
  });

  test('an unknown command', async () => {
    expect((await usageError(['frobnicate'])).message).toContain('frobnicate');
  });

  test('a stray argument after the command', async () => {
    expect((await usageError(['audit', 'extra'])).message).toContain('extra');
  });

  test('a flag without its value', async () => {
    expect((await usageError(['monitor', '--max-procs'])).message).toContain('max-procs');
  });

  test('a malformed value is validated like env and config values', async () => {
    expect((await usageError(['cleanup', '--steps', 'dedupe,nuke'])).message).toBe(
      '--steps: unknown step "nuke" (use dedupe,oldest,all,restart)',
    );
    expect((await usageError(['monitor', '--restart-limit', '3/1w'])).message).toContain('--restart-limit');
    expect((await usageError(['audit', '--match', '(x'])).message).toBe('--match: not a valid regular expression: (x');
  });
});

describe('a switch written --flag=VALUE', () => {
  // yargs-parser reads `--flag=VALUE` of a boolean as VALUE === 'true': `cleanup --all --dry-run=1`
  // was a real run, and beat PIDWARDEN_DRY_RUN=1.
  const switches = [...new Set(SETTINGS.filter((s) => s.kind === 'bool').map((s) => s.flag))];
  const commandOf = (flag: string) => SETTINGS.find((s) => s.flag === flag)!.commands[0]!;
  const positional = (command: string) => (command === 'explain' ? ['web'] : []);

  test('every switch: a value other than true or false is a usage error naming it', async () => {
    expect(switches).toContain('dry-run');
    for (const flag of switches) {
      const command = commandOf(flag);
      for (const value of ['1', 'yes', 'TRUE', '0', 'no', '']) {
        const e = await usageError([command, ...positional(command), `--${flag}=${value}`]);
        expect(e.message).toBe(`--${flag}=${value}: expected --${flag}, --${flag}=true or --${flag}=false`);
      }
    }
  });

  test('--dry-run=1 is refused, not a real run, even with PIDWARDEN_DRY_RUN=1', async () => {
    await usageError(['cleanup', '--all', '--dry-run=1'], { PIDWARDEN_DRY_RUN: '1' });
    await usageError(['cleanup', '--all', '--dry-run=yes']);
  });

  test('--flag, --flag=true, --flag=false and --flag true still work', async () => {
    expect((await settingsOf(['cleanup', '--all', '--dry-run'])).dryRun).toBe(true);
    expect((await settingsOf(['cleanup', '--all', '--dry-run=true'])).dryRun).toBe(true);
    expect((await settingsOf(['cleanup', '--all', '--dry-run=false'], { PIDWARDEN_DRY_RUN: '1' })).dryRun).toBe(false);
    expect((await settingsOf(['cleanup', '--all', '--dry-run', 'true'])).dryRun).toBe(true);
    expect((await settingsOf(['audit', '--npx-orphans=false'])).npxOrphans).toBe(false);
  });

  test('yargs\' own switches too: --help=1 and --version=yes', async () => {
    expect((await usageError(['audit', '--help=1'])).message).toBe('--help=1: expected --help, --help=true or --help=false');
    expect((await usageError(['--version=yes'])).message).toBe('--version=yes: expected --version, --version=true or --version=false');
  });
});

describe('commands and flags', () => {
  test('audit with flags: strings become numbers, repeated flags become lists', async () => {
    const r = await run(['audit', '--max-procs', '20', '--json', '--container', 'metamcp', '--container', 'other']);
    expect(r.command).toBe('audit');
    expect(r.settings).toMatchObject({ maxProcs: 20, json: true, containers: ['metamcp', 'other'] });
  });

  test('--flag=value form', async () => {
    expect((await settingsOf(['audit', '--max-procs=25', '--pids-ratio=0.9'])).maxProcs).toBe(25);
  });

  test('repeated --match on cleanup, in order', async () => {
    const s = await settingsOf(['cleanup', '--match', '^npx ', '--match', '^npm exec ', '--keep', '2']);
    expect(s.match.map((r) => r.source)).toEqual(['^npx ', '^npm exec ']);
    expect(s.keep).toBe(2);
  });

  test('monitor with its own options', async () => {
    const s = await settingsOf(['monitor', '--interval', '10', '--restart-limit', '5/30m', '--emergency', '--dry-run']);
    expect(s).toMatchObject({ intervalSeconds: 10, restartLimit: { count: 5, windowMs: 1_800_000 }, emergency: true, dryRun: true });
  });

  test('absent flags leave env in charge (no yargs defaults hiding it)', async () => {
    expect((await settingsOf(['audit'], { PIDWARDEN_MAX_PROCS: '33' })).maxProcs).toBe(33);
    expect((await settingsOf(['audit'], { PIDWARDEN_JSON: 'true' })).json).toBe(true);
    expect((await settingsOf(['audit'], { PIDWARDEN_CONTAINER: '["a","b"]' })).containers).toEqual(['a', 'b']);
  });

  test('a flag wins over env', async () => {
    expect((await settingsOf(['audit', '--max-procs', '20'], { PIDWARDEN_MAX_PROCS: '33' })).maxProcs).toBe(20);
  });
});

describe('--config', () => {
  test('a config file is read, kebab and camel case keys alike', async () => {
    const path = configFile('good.json', { 'max-procs': 21, pidsRatio: 0.7, match: ['^npx '] });
    const s = await settingsOf(['audit', '--config', path]);
    expect(s.maxProcs).toBe(21);
    expect(s.pidsRatio).toBe(0.7);
    expect(s.match.map((r) => r.source)).toEqual(['^npx ']);
  });

  test('--config before the command works too (it is a global option)', async () => {
    const path = configFile('global.json', { 'max-procs': 22 });
    expect((await settingsOf(['--config', path, 'audit'])).maxProcs).toBe(22);
  });

  test('precedence: flag > env > config file', async () => {
    const path = configFile('prec.json', { 'max-procs': 21, keep: 4, grace: 9 });
    const s = await settingsOf(['cleanup', '--config', path, '--max-procs', '40'], { PIDWARDEN_KEEP: '2' });
    expect([s.maxProcs, s.keep, s.graceSeconds]).toEqual([40, 2, 9]);
  });

  test('PIDWARDEN_CONFIG names the file when --config is absent; --config wins over it', async () => {
    const a = configFile('env-a.json', { 'max-procs': 31 });
    const b = configFile('env-b.json', { 'max-procs': 32 });
    expect((await settingsOf(['audit'], { PIDWARDEN_CONFIG: a })).maxProcs).toBe(31);
    expect((await settingsOf(['audit', '--config', b], { PIDWARDEN_CONFIG: a })).maxProcs).toBe(32);
  });

  test('an unknown key: UsageError naming the key and the file', async () => {
    const path = configFile('unknown-key.json', { 'max-procs': 20, max_procs: 20 });
    const e = await usageError(['audit', '--config', path]);
    expect(e.message).toBe(`config ${path}: unknown setting "max_procs"`);
  });

  test('"config" itself is not a setting of the file', async () => {
    const path = configFile('nested.json', { config: '/etc/other.json' });
    expect((await usageError(['audit', '--config', path])).message).toContain('unknown setting "config"');
  });

  test('not JSON, not an object, not there: UsageErrors naming the file', async () => {
    const bad = configFile('bad.json', '{ "max-procs": 20, ');
    expect((await usageError(['audit', '--config', bad])).message).toStartWith(`config ${bad}: not valid JSON`);
    const arr = configFile('array.json', [1, 2]);
    expect((await usageError(['audit', '--config', arr])).message).toBe(`config ${arr}: expected a JSON object`);
    const nul = configFile('null.json', 'null');
    expect((await usageError(['audit', '--config', nul])).message).toBe(`config ${nul}: expected a JSON object`);
    const missing = join(dir, 'missing.json');
    expect((await usageError(['audit', '--config', missing])).message).toBe(`config ${missing}: cannot read (ENOENT)`);
  });

  test('a malformed value in the file names the file\'s setting', async () => {
    const path = configFile('bad-value.json', { 'max-procs': 'lots' });
    expect((await usageError(['audit', '--config', path])).message).toBe('config "max-procs": expected a whole number, got "lots"');
  });

  test('readConfig returns the object as written', () => {
    const path = configFile('plain.json', { maxProcs: 5, steps: 'all' });
    expect(readConfig(path)).toEqual({ maxProcs: 5, steps: 'all' });
  });
});
