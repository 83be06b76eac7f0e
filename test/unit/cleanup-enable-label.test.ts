// `cleanup --all` beside a container whose pidwarden.enable is malformed ("no"): the README's
// promise for a malformed label. The container gets one `error` line naming the label and the
// value, the exit is 1, and nothing is done to it: the fake engine is asked for the list and the
// inspect only (no exec, no stats, no restart).
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { runCleanup } from '../../src/commands/cleanup.ts';
import { startFakeEngine } from './helpers/fake-engine.ts';

const ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8';
const fake = startFakeEngine([{ id: ID, name: 'web', labels: { 'pidwarden.enable': 'no' } }]);
const dir = mkdtempSync(join(tmpdir(), 'pw-enable-label-'));
afterAll(() => {
  fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('cleanup --all: a malformed pidwarden.enable is an error line and exit 1, never acted on', async () => {
  const logFile = join(dir, 'log.jsonl');
  const settings = resolveSettings('cleanup', { all: true, 'log-file': logFile, 'state-file': join(dir, 'state.json'), 'proc-root': dir }, {}, {});
  let stderr = '';
  const code = await runCleanup({ settings, engine: fake.engine, io: { out: () => {}, err: (t) => void (stderr += t) }, timeoutMs: 2000 });
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toEqual([expect.objectContaining({ event: 'error', container: 'web', containerId: ID, reason: 'label pidwarden.enable="no": expected true or false; container skipped' })]);
  expect(stderr).toBe('web: label pidwarden.enable="no": expected true or false; container skipped\n');
  expect(code).toBe(1);
  expect(fake.asked.filter((p) => !/^\/(version|containers\/json|containers\/[0-9a-f]{64}\/json)$/.test(p))).toEqual([]);
});
