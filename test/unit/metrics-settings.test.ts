// The metrics and notification settings: off by default, validated like every other setting.
import { describe, expect, test } from 'bun:test';
import { resolveSettings } from '../../src/cli/settings.ts';
import { UsageError } from '../../src/errors.ts';

const monitor = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}) => resolveSettings('monitor', flags, env, {});

describe('metrics and notification settings', () => {
  test('defaults: no listening, no hook, no webhook; json format; 5 min folding', () => {
    const s = monitor();
    expect(s.metricsAddr).toBeUndefined();
    expect(s.onAction).toBeUndefined();
    expect(s.webhook).toBeUndefined();
    expect(s.webhookFormat).toBe('json');
    expect(s.notifyEverySeconds).toBe(300);
  });

  test('from flags and from the environment', () => {
    expect(monitor({ 'metrics-addr': '127.0.0.1:9723' }).metricsAddr).toEqual({ host: '127.0.0.1', port: 9723 });
    const s = monitor({}, { PIDWARDEN_WEBHOOK: 'https://ntfy.example/alerts', PIDWARDEN_WEBHOOK_FORMAT: 'ntfy', PIDWARDEN_NOTIFY_EVERY: '60', PIDWARDEN_ON_ACTION: '/usr/local/sbin/hook' });
    expect([s.webhook, s.webhookFormat, s.notifyEverySeconds, s.onAction]).toEqual(['https://ntfy.example/alerts', 'ntfy', 60, '/usr/local/sbin/hook']);
  });

  test.each([
    [{ 'metrics-addr': '9723' }, '--metrics-addr: expected HOST:PORT'],
    [{ 'metrics-addr': ':9723' }, '--metrics-addr: expected HOST:PORT'],
    [{ webhook: 'ftp://x/y' }, '--webhook: expected an http:// or https:// URL'],
    [{ webhook: 'hooks.slack.com/services/x' }, '--webhook: expected an http:// or https:// URL'],
    [{ 'webhook-format': 'teams' }, '--webhook-format: expected json, slack, discord, ntfy'],
    [{ 'notify-every': -1 }, '--notify-every: must be between 0 and 86400 seconds'],
  ])('%p is a usage error', (flags, message) => {
    expect(() => monitor(flags)).toThrow(UsageError);
    expect(() => monitor(flags)).toThrow(message);
  });

  test('a malformed webhook URL is refused without echoing it (it may hold a token)', () => {
    try {
      monitor({ webhook: 'nope://secret-token' });
      throw new Error('accepted');
    } catch (e) {
      expect(String(e)).not.toContain('secret-token');
    }
  });

  test('--metrics-addr is the monitor\'s only: cleanup and audit do not read it', () => {
    expect(resolveSettings('cleanup', {}, { PIDWARDEN_METRICS_ADDR: 'garbage' }, {}).metricsAddr).toBeUndefined();
  });
});
