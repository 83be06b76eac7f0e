import { describe, expect, test } from 'bun:test';
import { envName, resolveSettings, SETTINGS, type CommandName, type Settings } from '../../src/cli/settings.ts';
import { UsageError } from '../../src/errors.ts';
import { DEFAULT_DOCKER_HOST } from '../../src/engine/client.ts';

type Raw = Record<string, unknown>;
type Env = Record<string, string | undefined>;

function resolve(flags: Raw = {}, env: Env = {}, config: Raw = {}, command: CommandName = 'monitor'): Settings {
  return resolveSettings(command, flags, env, config);
}

/** The UsageError thrown by `fn`; fails the test when it throws nothing or something else. */
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

const sources = (re: RegExp[]) => re.map((r) => r.source);

describe('envName', () => {
  test('PIDWARDEN_ + upper case, dashes to underscores', () => {
    expect(envName('max-procs')).toBe('PIDWARDEN_MAX_PROCS');
    expect(envName('dry-run')).toBe('PIDWARDEN_DRY_RUN');
    expect(envName('match')).toBe('PIDWARDEN_MATCH');
  });
});

describe('defaults', () => {
  test('nothing given anywhere: the documented defaults', () => {
    const s = resolve();
    expect(s).toMatchObject({
      containers: [],
      labels: [],
      maxProcs: 15,
      pidsRatio: 0.8,
      dockerHost: DEFAULT_DOCKER_HOST,
      procRoot: '/proc',
      json: false,
      keep: 1,
      protect: [],
      graceSeconds: 5,
      steps: ['dedupe', 'oldest', 'all', 'restart'],
      emergency: false,
      dryRun: false,
      intervalSeconds: 30,
      restartLimit: { count: 3, windowMs: 3_600_000 },
      heartbeatSeconds: 300,
    });
    expect(sources(s.match)).toEqual(['^npm exec ']);
    expect(s.cgroupRoot).toBeUndefined();
    expect(s.promFile).toBeUndefined();
    expect(s.logFile).toBeUndefined();
    expect(s.pidFile).toBeUndefined();
  });

  test('the default --match matches the retitled npm process and not its children', () => {
    const [re] = resolve().match;
    expect(re!.test('npm exec @21st-dev/magic@latest')).toBe(true);
    expect(re!.test("sh -c 'magic'")).toBe(false);
    expect(re!.test('node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic')).toBe(false);
  });

  test('docker host: DOCKER_HOST when no pidwarden setting names one', () => {
    expect(resolve({}, { DOCKER_HOST: 'tcp://10.0.0.5:2375' }).dockerHost).toBe('tcp://10.0.0.5:2375');
    expect(resolve({}, { DOCKER_HOST: '' }).dockerHost).toBe(DEFAULT_DOCKER_HOST);
  });
});

describe('precedence: flags > env > config > defaults', () => {
  const scalarCases: [flag: string, key: keyof Settings, flagV: unknown, envV: string, configV: unknown, want: [unknown, unknown, unknown]][] = [
    ['max-procs', 'maxProcs', '40', '30', 20, [40, 30, 20]],
    ['pids-ratio', 'pidsRatio', '0.9', '0.7', 0.5, [0.9, 0.7, 0.5]],
    ['keep', 'keep', '3', '2', 4, [3, 2, 4]],
    ['grace', 'graceSeconds', '1.5', '10', 7, [1.5, 10, 7]],
    ['interval', 'intervalSeconds', '5', '60', 120, [5, 60, 120]],
    ['dry-run', 'dryRun', true, 'true', true, [true, true, true]],
    ['proc-root', 'procRoot', '/flag/proc', '/env/proc', '/config/proc', ['/flag/proc', '/env/proc', '/config/proc']],
    ['docker-host', 'dockerHost', 'unix:///flag.sock', 'unix:///env.sock', 'unix:///config.sock', ['unix:///flag.sock', 'unix:///env.sock', 'unix:///config.sock']],
    ['restart-limit', 'restartLimit', '5/30m', '2/1d', '1/10s', [{ count: 5, windowMs: 1_800_000 }, { count: 2, windowMs: 86_400_000 }, { count: 1, windowMs: 10_000 }]],
  ];

  for (const [flag, key, flagV, envV, configV, [wantFlag, wantEnv, wantConfig]] of scalarCases) {
    test(`${flag}`, () => {
      const env = { [envName(flag)]: envV };
      const config = { [flag]: configV };
      expect(resolve({ [flag]: flagV }, env, config)[key] as unknown).toEqual(wantFlag);
      expect(resolve({}, env, config)[key] as unknown).toEqual(wantEnv);
      expect(resolve({}, {}, config)[key] as unknown).toEqual(wantConfig);
    });
  }

  test('list settings: a flag list replaces the env list, which replaces the config list', () => {
    const env = { PIDWARDEN_CONTAINER: '["env-a","env-b"]' };
    const config = { container: ['cfg'] };
    expect(resolve({ container: ['flag'] }, env, config).containers).toEqual(['flag']);
    expect(resolve({}, env, config).containers).toEqual(['env-a', 'env-b']);
    expect(resolve({}, {}, config).containers).toEqual(['cfg']);
  });

  test('an empty flag list (yargs gives [] for an absent array option) does not hide env or config', () => {
    expect(resolve({ container: [] }, { PIDWARDEN_CONTAINER: 'metamcp' }).containers).toEqual(['metamcp']);
  });

  test('an empty env value counts as unset: the config value is used', () => {
    expect(resolve({}, { PIDWARDEN_MAX_PROCS: '' }, { 'max-procs': 20 }).maxProcs).toBe(20);
  });

  test('a config value of null counts as unset: the default is used', () => {
    expect(resolve({}, {}, { 'max-procs': null }).maxProcs).toBe(15);
  });

  test('the pidwarden docker-host setting wins over DOCKER_HOST, wherever it comes from', () => {
    expect(resolve({}, { DOCKER_HOST: 'tcp://x:2375' }, { 'docker-host': 'unix:///cfg.sock' }).dockerHost).toBe('unix:///cfg.sock');
  });

  test('mixing sources: each setting takes its own highest source', () => {
    const s = resolve({ 'max-procs': '40' }, { PIDWARDEN_KEEP: '2' }, { interval: 10, 'max-procs': 99, keep: 9 });
    expect([s.maxProcs, s.keep, s.intervalSeconds, s.graceSeconds]).toEqual([40, 2, 10, 5]);
  });
});

describe('list settings from the environment', () => {
  test('a JSON array', () => {
    expect(sources(resolve({}, { PIDWARDEN_MATCH: '["^npm exec ", "^npx "]' }).match)).toEqual(['^npm exec ', '^npx ']);
  });

  test('a JSON array with surrounding spaces', () => {
    expect(resolve({}, { PIDWARDEN_LABEL: '  ["a=1","b"]  ' }).labels).toEqual(['a=1', 'b']);
  });

  test('a single value, spaces and commas kept (a regex may well contain them)', () => {
    expect(sources(resolve({}, { PIDWARDEN_MATCH: '^npm exec (a|b), x' }).match)).toEqual(['^npm exec (a|b), x']);
    expect(resolve({}, { PIDWARDEN_CONTAINER: 'metamcp' }).containers).toEqual(['metamcp']);
  });

  test('a single regex that starts with "[" must be wrapped in a JSON array', () => {
    expect(usageError(() => resolve({}, { PIDWARDEN_PROTECT: '[s]h' })).message).toContain('PIDWARDEN_PROTECT: malformed JSON array');
    expect(sources(resolve({}, { PIDWARDEN_PROTECT: '["[s]h"]' }).protect)).toEqual(['[s]h']);
  });

  test('numbers in the array become strings', () => {
    expect(resolve({}, { PIDWARDEN_CONTAINER: '[123, "abc"]' }).containers).toEqual(['123', 'abc']);
  });

  test('malformed JSON array: a UsageError naming the variable', () => {
    const e = usageError(() => resolve({}, { PIDWARDEN_MATCH: '["^npm exec ", ' }));
    expect(e.message).toContain('PIDWARDEN_MATCH');
    expect(e.message).toContain('malformed JSON array');
  });

  test('an array of non-strings: a UsageError naming the variable', () => {
    const e = usageError(() => resolve({}, { PIDWARDEN_PROTECT: '[{"re":"x"}]' }));
    expect(e.message).toBe('PIDWARDEN_PROTECT: expected strings, got [{"re":"x"}]');
  });
});

describe('malformed values: a UsageError naming where the value came from', () => {
  test.each([
    ['flag, not a number', { 'max-procs': 'abc' }, {}, {}, '--max-procs: expected a whole number, got "abc"'],
    ['flag, a fraction for a whole number', { 'max-procs': '1.5' }, {}, {}, '--max-procs: expected a whole number, got "1.5"'],
    ['env, trailing words', {}, { PIDWARDEN_MAX_PROCS: '15 procs' }, {}, 'PIDWARDEN_MAX_PROCS: expected a whole number, got "15 procs"'],
    ['config, a string', {}, {}, { 'max-procs': 'x' }, 'config "max-procs": expected a whole number, got "x"'],
    ['config, a JSON fraction', {}, {}, { 'max-procs': 2.5 }, 'config "max-procs": expected a whole number, got 2.5'],
    ['env, a percentage', {}, { PIDWARDEN_PIDS_RATIO: '80%' }, {}, 'PIDWARDEN_PIDS_RATIO: expected a number, got "80%"'],
    ['flag, exponent notation', { grace: '1e3' }, {}, {}, '--grace: expected a number, got "1e3"'],
    ['env, yes for a boolean', {}, { PIDWARDEN_DRY_RUN: 'yes' }, {}, 'PIDWARDEN_DRY_RUN: expected true or false, got "yes"'],
    ['config, on for a boolean', {}, {}, { emergency: 'on' }, 'config "emergency": expected true or false, got "on"'],
    ['config, a number for a string', {}, {}, { 'docker-host': 5 }, 'config "docker-host": expected a non-empty string, got 5'],
    ['config, an empty string', {}, {}, { 'log-file': '' }, 'config "log-file": expected a non-empty string, got ""'],
    ['config, an object in a list', {}, {}, { label: [{ a: 1 }] }, 'config "label": expected strings, got [{"a":1}]'],
  ] as [string, Raw, Env, Raw, string][])('%s', (_name, flags, env, config, message) => {
    expect(usageError(() => resolve(flags, env, config)).message).toBe(message);
  });

  test('booleans accept true/false/1/0 from strings', () => {
    expect(resolve({}, { PIDWARDEN_DRY_RUN: '1' }).dryRun).toBe(true);
    expect(resolve({}, { PIDWARDEN_DRY_RUN: '0' }).dryRun).toBe(false);
    expect(resolve({}, { PIDWARDEN_EMERGENCY: 'false' }, { emergency: true }).emergency).toBe(false);
  });

  test('numbers: whole, decimal, leading dot, surrounding spaces', () => {
    expect(resolve({}, { PIDWARDEN_PIDS_RATIO: '.5' }).pidsRatio).toBe(0.5);
    expect(resolve({}, { PIDWARDEN_GRACE: ' 2.5 ' }).graceSeconds).toBe(2.5);
    expect(resolve({}, { PIDWARDEN_MAX_PROCS: ' 20 ' }).maxProcs).toBe(20);
  });

  test('a repeated scalar flag: the last one wins', () => {
    expect(resolve({ 'docker-host': ['unix:///a.sock', 'unix:///b.sock'] }).dockerHost).toBe('unix:///b.sock');
  });
});

describe('range checks', () => {
  test.each([
    ['max-procs 0', { 'max-procs': '0' }, '--max-procs: must be at least 1'],
    ['pids-ratio 0', { 'pids-ratio': '0' }, '--pids-ratio: must be in (0, 1]'],
    ['pids-ratio above 1', { 'pids-ratio': '1.5' }, '--pids-ratio: must be in (0, 1]'],
    ['keep negative', { keep: '-1' }, '--keep: must be 0 or more'],
    ['grace over an hour', { grace: '3601' }, '--grace: must be between 0 and 3600 seconds'],
    ['interval 0', { interval: '0' }, '--interval: must be between 0 and 86400 seconds'],
    ['heartbeat 0', { heartbeat: '0' }, '--heartbeat: must be more than 0 seconds'],
    ['blank container name', { container: ['  '] }, '--container: empty name'],
    ['label without a key', { label: ['=v'] }, '--label: expected KEY or KEY=VALUE, got "=v"'],
    ['a swallowed flag as a path', { 'cgroup-root': '--json' }, '--cgroup-root: expected a path, got "--json"'],
  ] as [string, Raw, string][])('%s', (_name, flags, message) => {
    expect(usageError(() => resolve(flags)).message).toBe(message);
  });

  test('the edges that are allowed', () => {
    const s = resolve({ 'max-procs': '1', 'pids-ratio': '1', keep: '0', grace: '0', interval: '86400' });
    expect([s.maxProcs, s.pidsRatio, s.keep, s.graceSeconds, s.intervalSeconds]).toEqual([1, 1, 0, 0, 86400]);
  });
});

describe('--exclude: each value must be able to name a container', () => {
  // A value that no container can carry excluded nothing, silently: `--exclude=web,db` left
  // web and db to --all.
  test('a list in one value, from each source: a usage error naming it and how to give several', () => {
    expect(usageError(() => resolve({ all: true, exclude: ['web,db'] })).message).toBe(
      '--exclude: "web,db" is not a container name or ID; give several by repeating the flag: --exclude web --exclude db',
    );
    expect(usageError(() => resolve({ all: true }, { PIDWARDEN_EXCLUDE: 'web,db' })).message).toBe(
      'PIDWARDEN_EXCLUDE: "web,db" is not a container name or ID; give several as a JSON array: PIDWARDEN_EXCLUDE=\'["web","db"]\'',
    );
    expect(usageError(() => resolve({ all: true }, {}, { exclude: ['web db'] })).message).toBe(
      'config "exclude": "web db" is not a container name or ID; give several as a JSON array: "exclude": ["web","db"]',
    );
  });

  test('other values no container can carry; every command that takes --exclude', () => {
    for (const bad of ['a/b', '-web', 'web;', 'wéb', '..']) {
      expect(usageError(() => resolve({ exclude: [bad] })).message).toStartWith(`--exclude: ${JSON.stringify(bad)} is not a container name or ID; give several by repeating the flag: --exclude NAME1 --exclude NAME2`);
    }
    for (const command of ['audit', 'cleanup', 'top', 'reap'] as CommandName[]) {
      expect(usageError(() => resolve({ exclude: ['web,db'] }, {}, {}, command)).message).toStartWith('--exclude: "web,db"');
    }
  });

  test('names, a leading slash, IDs and ID prefixes, several by repetition or a JSON array', () => {
    expect(resolve({ exclude: ['web', '/db.1', 'my_app-2', 'db24ad411a5b'] }).exclude).toEqual(['web', '/db.1', 'my_app-2', 'db24ad411a5b']);
    expect(resolve({}, { PIDWARDEN_EXCLUDE: '["web","db"]' }).exclude).toEqual(['web', 'db']);
    expect(resolve({}, { PIDWARDEN_EXCLUDE: 'web' }).exclude).toEqual(['web']);
  });
});

describe('regular expressions', () => {
  test('--match and --protect compile, several of each', () => {
    const s = resolve({ match: ['^npm exec ', '^npx '], protect: ['figma', 'index\\.js$'] });
    expect(sources(s.match)).toEqual(['^npm exec ', '^npx ']);
    expect(sources(s.protect)).toEqual(['figma', 'index\\.js$']);
  });

  test('compiled with the u flag: UTF-8 command lines match by code point', () => {
    const [re] = resolve({ match: ['^node /app/scripts/w.rker\\.js'] }).match;
    expect(re!.flags).toContain('u');
    expect(re!.test('node /app/scripts/wörker.js --label café')).toBe(true);
  });

  test('a bad regex: UsageError naming the source and the pattern', () => {
    expect(usageError(() => resolve({ match: ['(unclosed'] })).message).toBe('--match: not a valid regular expression: (unclosed');
    expect(usageError(() => resolve({}, { PIDWARDEN_PROTECT: '(a|' })).message).toBe('PIDWARDEN_PROTECT: not a valid regular expression: (a|');
    expect(usageError(() => resolve({}, {}, { match: ['ok', '*bad'] })).message).toBe('config "match": not a valid regular expression: *bad');
  });

  test('a runaway pattern that matches every command line (the empty one, or each of five unrelated ones): UsageError from flag, env and config', () => {
    const why = 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)';
    expect(usageError(() => resolve({ match: [''] })).message).toBe(`--match: "" ${why}`);
    expect(usageError(() => resolve({}, { PIDWARDEN_MATCH: '[".*"]' })).message).toBe(`PIDWARDEN_MATCH: ".*" ${why}`);
    expect(usageError(() => resolve({}, {}, { match: ['^npm exec ', '(x|)'] })).message).toBe(`config "match": "(x|)" ${why}`);
    expect(usageError(() => resolve({ match: ['\\S'] })).message).toContain('--match: "\\S" matches every command line (it matches each of');
    // narrow patterns pass, also ones that match some of those lines
    expect(resolve({ match: ['^npm exec ', '^python ', 'worker', '^(sleep|top)'] }).match.map(String)).toEqual(['/^npm exec /u', '/^python /u', '/worker/u', '/^(sleep|top)/u']);
    // --protect only keeps processes: one that protects every process is the user's to give
    expect(resolve({ protect: ['.*'] }).protect.map(String)).toEqual(['/.*/u']);
  });
});

describe('--steps', () => {
  test('a subset, in the order given (the ladder reorders them when it runs)', () => {
    expect(resolve({ steps: 'restart,dedupe' }).steps).toEqual(['restart', 'dedupe']);
  });

  test('spaces and empty items are tolerated', () => {
    expect(resolve({}, { PIDWARDEN_STEPS: ' dedupe , ,all ' }).steps).toEqual(['dedupe', 'all']);
  });

  test('an unknown step: UsageError naming it and the valid ones', () => {
    expect(usageError(() => resolve({ steps: 'dedupe,kill' })).message).toBe('--steps: unknown step "kill" (use dedupe,oldest,all,restart)');
  });

  test('steps are case-sensitive', () => {
    expect(usageError(() => resolve({ steps: 'ALL' })).message).toContain('unknown step "ALL"');
  });

  test('no step at all', () => {
    expect(usageError(() => resolve({ steps: ' , ' })).message).toBe('--steps: name at least one step');
    expect(usageError(() => resolve({}, {}, { steps: '' })).message).toBe('config "steps": expected a non-empty string, got ""');
  });
});

describe('--restart-limit', () => {
  test('good values', () => {
    expect(resolve({ 'restart-limit': '10/90s' }).restartLimit).toEqual({ count: 10, windowMs: 90_000 });
  });

  test.each(['3', '3/1w', '3/0h', 'many/1h', '-1/1h', '3/8d', '101/1h'])('bad value %p: UsageError quoting it', (bad) => {
    expect(usageError(() => resolve({ 'restart-limit': bad })).message).toBe(
      `--restart-limit: expected N/WINDOW such as 3/1h (N at most 100, WINDOW at most 7d), got "${bad}"`,
    );
  });
});

describe('--webhook: the URL is parsed whole when the settings are read', () => {
  // Each of these passed a scheme-and-host pattern, then threw in the sender, where nothing logged it.
  const rejected: [string, string][] = [
    ['a port over 65535', 'http://hooks.example:99999/SECRETPATH'],
    ['an IPv6 address without its closing bracket', 'http://[::1/SECRETPATH'],
    ['a password that is not percent-encoding', 'http://alice:s3cret%zz@hooks.example/SECRETPATH'],
    ['a user name that is not percent-encoding', 'http://al%zzice:s3cret@hooks.example/SECRETPATH'],
    ['one slash after the scheme', 'http:/hooks.example/SECRETPATH'],
    ['another scheme', 'ftp://hooks.example/SECRETPATH'],
  ];
  for (const [what, url] of rejected) {
    test(`${what}: a usage error of one line that does not quote the URL`, () => {
      const e = usageError(() => resolve({ webhook: url }, {}, {}, 'cleanup'));
      expect(e.message).toStartWith('--webhook: ');
      expect(e.message).not.toContain('\n');
      expect(e.message).not.toMatch(/SECRETPATH|s3cret|alice|hooks\.example/);
    });
  }

  test('accepted: userinfo with escapes, IPv6, a port, https', () => {
    for (const url of ['http://alice:p%40ss@127.0.0.1:8080/hook', 'http://[::1]:9/hook', 'https://hooks.slack.com/services/T0/B0/X']) {
      expect(resolve({ webhook: url }, {}, {}, 'cleanup').webhook).toBe(url);
    }
  });
});

describe('config keys in kebab or camel case', () => {
  test('camelCase keys are read like the flag names', () => {
    const s = resolve({}, {}, { maxProcs: 22, pidsRatio: 0.6, dryRun: true, restartLimit: '1/1h', procRoot: '/host/proc', cgroupRoot: '/host/cgroup' });
    expect(s).toMatchObject({ maxProcs: 22, pidsRatio: 0.6, dryRun: true, restartLimit: { count: 1, windowMs: 3_600_000 }, procRoot: '/host/proc', cgroupRoot: '/host/cgroup' });
  });

  test('both spellings given: the kebab-case key wins', () => {
    expect(resolve({}, {}, { 'max-procs': 30, maxProcs: 40 }).maxProcs).toBe(30);
  });

  test('one-word keys are the same in both cases', () => {
    expect(resolve({}, {}, { keep: 2, match: 'x' }).keep).toBe(2);
  });

  test('every setting: the camelCase key gives the same result as the kebab-case key', () => {
    const sample = (flag: string, kind: string): unknown => {
      if (flag === 'steps') return 'all,restart';
      if (flag === 'restart-limit') return '1/1h';
      if (flag === 'proc-source') return 'host';
      if (flag === 'restart') return 'never';
      if (flag === 'warn-within') return '2h';
      if (flag === 'max-age' || flag === 'idle-for') return '1h';
      if (flag === 'metrics-addr') return '127.0.0.1:9723';
      if (flag === 'webhook') return 'http://127.0.0.1:9/hook';
      if (flag === 'webhook-format') return 'slack';
      if (kind === 'list') return ['x'];
      if (kind === 'int') return 2;
      if (kind === 'number') return 0.5;
      if (kind === 'bool') return true;
      return '/some/path';
    };
    for (const spec of SETTINGS) {
      const camel = spec.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const value = sample(spec.flag, spec.kind);
      const command = spec.commands[0]!; // a setting is read only by the commands that use it
      const viaCamel = resolve({}, {}, { [camel]: value }, command);
      expect(viaCamel).toEqual(resolve({}, {}, { [spec.flag]: value }, command));
      expect(viaCamel).not.toEqual(resolve({}, {}, {}, command)); // the value was read, not ignored
    }
  });
});

test('a setting a command does not use is not read: a bad PIDWARDEN_INTERVAL does not break audit', () => {
  expect(resolve({}, { PIDWARDEN_INTERVAL: 'soon' }, {}, 'audit').intervalSeconds).toBe(30);
});

describe('paths', () => {
  test('proc root: trailing slashes removed, "/" stays "/"', () => {
    expect(resolve({ 'proc-root': '/host/proc/' }).procRoot).toBe('/host/proc');
    expect(resolve({ 'proc-root': '/' }).procRoot).toBe('/');
  });

  test('relative paths are accepted', () => {
    expect(resolve({ 'pid-file': 'run/pidwarden.pid', 'log-file': './log.jsonl' })).toMatchObject({
      pidFile: 'run/pidwarden.pid',
      logFile: './log.jsonl',
    });
  });

  test('cgroup root is kept as given (trailing slash handled by the cgroup code)', () => {
    expect(resolve({}, { PIDWARDEN_CGROUP_ROOT: '/host/sys/fs/cgroup' }).cgroupRoot).toBe('/host/sys/fs/cgroup');
  });
});

describe('commands', () => {
  test('the same sources resolve for audit, cleanup and monitor', () => {
    for (const command of ['audit', 'cleanup', 'monitor'] as const) {
      expect(resolveSettings(command, { 'max-procs': '12' }, {}, {}).maxProcs).toBe(12);
    }
  });

  test('the env object is only read, never written', () => {
    const env: Env = { PIDWARDEN_MAX_PROCS: '20' };
    resolve({}, env);
    expect(env).toEqual({ PIDWARDEN_MAX_PROCS: '20' });
  });
});
