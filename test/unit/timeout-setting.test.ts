import { describe, expect, test } from 'bun:test';
import { resolveSettings, type CommandName } from '../../src/cli/settings.ts';
import { UsageError } from '../../src/errors.ts';

const resolve = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}, config: Record<string, unknown> = {}, command: CommandName = 'audit') =>
  resolveSettings(command, flags, env, config);

describe('--timeout', () => {
  test('10 s by default, for every command', () => {
    for (const c of ['audit', 'cleanup', 'monitor', 'explain', 'top', 'reap'] as const) expect(resolve({}, {}, {}, c).timeoutSeconds).toBe(10);
  });

  test('every command that calls the engine takes it, reap too', () => {
    // reap had none: PIDWARDEN_TIMEOUT=60 left it at 10 s, and a Podman 5 that took longer to start
    // its socket-activated service under load failed the reap with exit 3 (test/lanes/reap.test.ts)
    for (const c of ['audit', 'cleanup', 'monitor', 'explain', 'top', 'reap'] as const) {
      expect(resolve({}, { PIDWARDEN_TIMEOUT: '60' }, {}, c).timeoutSeconds).toBe(60);
      expect(resolve({ timeout: '30' }, {}, {}, c).timeoutSeconds).toBe(30);
    }
  });

  test('flag > PIDWARDEN_TIMEOUT > config; fractions allowed', () => {
    expect(resolve({}, {}, { timeout: 4 }).timeoutSeconds).toBe(4);
    expect(resolve({}, { PIDWARDEN_TIMEOUT: '2.5' }, { timeout: 4 }).timeoutSeconds).toBe(2.5);
    expect(resolve({ timeout: '0.5' }, { PIDWARDEN_TIMEOUT: '2.5' }).timeoutSeconds).toBe(0.5);
  });

  test.each(['0', '-1', '3601', 'soon'])('%s is a usage error', (v) => {
    expect(() => resolve({ timeout: v })).toThrow(UsageError);
  });
});
