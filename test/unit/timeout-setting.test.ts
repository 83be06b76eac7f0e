import { describe, expect, test } from 'bun:test';
import { resolveSettings, type CommandName } from '../../src/cli/settings.ts';
import { UsageError } from '../../src/errors.ts';

const resolve = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}, config: Record<string, unknown> = {}, command: CommandName = 'audit') =>
  resolveSettings(command, flags, env, config);

describe('--timeout', () => {
  test('10 s by default, for every command', () => {
    for (const c of ['audit', 'cleanup', 'monitor'] as const) expect(resolve({}, {}, {}, c).timeoutSeconds).toBe(10);
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
