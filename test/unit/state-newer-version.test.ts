// A state file written by a newer pidwarden (version 99 here) beside this one: a monitor upgraded
// while an older cron `cleanup` or `audit` shares /var/lib/pidwarden/state.json. The writing commands
// moved it aside as "corrupt or of another version" and wrote their own: at each of their writes
// (an audit samples every minute) the newer pidwarden's restart history, and so its
// --restart-limit, was gone. Now it is left as it is, and this one works from memory.
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../../src/state/state-file.ts';

const ID = 'c'.repeat(64);
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-state-newer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a newer pidwarden's state file is neither moved aside nor replaced; restarts still count, from memory", () => {
  const path = join(dir, 'state.json');
  const newer = JSON.stringify({ version: 99, containers: { [ID]: { name: 'x', restarts: [Date.now() - 1000] } } });
  writeFileSync(path, newer);
  const warnings: string[] = [];
  const store = new StateStore(path, (m) => warnings.push(m));
  const now = Date.now();
  expect(store.restartHistory(ID)).toEqual([]);
  store.recordRestart(ID, 'x', now);
  store.recordSamples([{ id: ID, name: 'x', row: [now, 3, 0, 10], forksRefused: null }]);
  expect(store.restartHistory(ID)).toEqual([now]);
  expect(readdirSync(dir).filter((f) => f.startsWith('state.json.bad-'))).toEqual([]);
  expect(readFileSync(path, 'utf8')).toBe(newer);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('newer pidwarden (version 99');
});

test('a version that is no whole number above ours is corrupt as before: moved aside', () => {
  const path = join(dir, 'state.json');
  writeFileSync(path, JSON.stringify({ version: 0, containers: {} }));
  new StateStore(path, () => {}).recordRestart(ID, 'x', Date.now());
  expect(readdirSync(dir).filter((f) => f.startsWith('state.json.bad-'))).toHaveLength(1);
  expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1);
});
